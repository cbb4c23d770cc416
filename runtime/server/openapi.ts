import Router from '@koa/router';
import type { ServerDeps } from './deps.js';

const json = (schema: object) => ({ 'application/json': { schema } });
const error = { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } } };

/** The OpenAPI 3 description of the HTTP API, and a page to read and try it. */
export function openapiDocument(deps: ServerDeps): object {
  const prediction = {
    type: 'object',
    properties: {
      digit: { type: 'integer', minimum: 0, maximum: 9 },
      probability: { type: 'number' },
      probabilities: { type: 'array', items: { type: 'number' }, minItems: 10, maxItems: 10 },
      confidence: { type: 'number', minimum: 0, maximum: 1 },
      reliable: { type: 'boolean' },
      uncertainty: { type: 'object', additionalProperties: true },
    },
  };
  const errors = Object.fromEntries(
    [['400', 'undecodable or empty image, malformed JSON'], ['404', 'unknown model'], ['413', 'body or pixel count over the limit'], ['415', 'unsupported media type'], ['422', 'wrong tensor shape, NaN, too many images'], ['429', 'queue full (Retry-After)'], ['503', 'not ready or draining'], ['504', 'deadline passed']].map(([code, description]) => [code, { description, content: json(error) }]),
  );
  return {
    openapi: '3.0.3',
    info: { title: 'digitserve runtime', version: '0.1.0', description: `Serves model "${deps.model.name}" version ${deps.model.version} (${deps.model.track}).` },
    paths: {
      '/v1/models/{name}:predict': {
        post: {
          summary: 'Predict one or many images, with MC-dropout uncertainty',
          parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string', example: deps.model.name } }],
          requestBody: {
            required: true,
            content: {
              'image/png': { schema: { type: 'string', format: 'binary' } },
              'image/jpeg': { schema: { type: 'string', format: 'binary' } },
              'multipart/form-data': { schema: { type: 'object', properties: { image: { type: 'string', format: 'binary' } } } },
              'application/json': { schema: { type: 'object', required: ['instances'], properties: { instances: { type: 'array', items: { oneOf: [{ type: 'object', properties: { b64: { type: 'string' } } }, { type: 'array', items: { type: 'array', items: { type: 'number' } } }] } } } } },
            },
          },
          responses: { '200': { description: 'one prediction per image, in order', content: json({ type: 'object', properties: { model: { type: 'object' }, predictions: { type: 'array', items: prediction } } }) }, ...errors },
        },
      },
      '/v1/models': { get: { summary: 'Models served', responses: { '200': { description: 'models', content: json({ type: 'object' }) } } } },
      '/v1/models/{name}': { get: { summary: 'Model metadata and limits', parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'metadata', content: json({ type: 'object' }) }, '404': errors['404'] } } },
      '/v2/models/{name}/infer': { post: { summary: 'Open Inference Protocol infer (inputs "image" BYTES or "pixels" FP32 [-1,28,28,1])', parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }], requestBody: { content: json({ type: 'object' }) }, responses: { '200': { description: 'outputs', content: json({ type: 'object' }) } } } },
      '/healthz': { get: { summary: 'Liveness', responses: { '200': { description: 'alive' } } } },
      '/readyz': { get: { summary: 'Readiness: model loaded and warmed, not draining', responses: { '200': { description: 'ready' }, '503': { description: 'not ready' } } } },
    },
  };
}

export function docsRoutes(deps: ServerDeps): Router {
  const r = new Router();
  r.get('/openapi.json', (ctx) => {
    ctx.body = openapiDocument(deps);
  });
  r.get('/docs', (ctx) => {
    ctx.type = 'html';
    ctx.body = DOCS_PAGE;
  });
  return r;
}

// Self-contained (no CDN is reachable from every cluster): lists the operations from /openapi.json
// and lets one send an image to :predict.
const DOCS_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>digitserve API</title>
<style>body{font:15px system-ui;margin:2rem;max-width:60rem}code,pre{background:#f3f3f3;padding:.2rem}.op{border:1px solid #ddd;border-radius:6px;padding:.6rem;margin:.6rem 0}</style></head>
<body><h1>digitserve API</h1><p>OpenAPI document: <a href="/openapi.json">/openapi.json</a></p><div id="ops"></div>
<h2>Try :predict</h2><input type="file" id="f" accept="image/*"> <button id="go">Send</button><pre id="out"></pre>
<script>
fetch('/openapi.json').then(r=>r.json()).then(doc=>{const ops=document.getElementById('ops');
for(const [p,ms] of Object.entries(doc.paths))for(const [m,op] of Object.entries(ms)){const d=document.createElement('div');d.className='op';
d.innerHTML='<b>'+m.toUpperCase()+'</b> <code>'+p+'</code> — '+(op.summary||'');ops.appendChild(d);}
window.modelName=(doc.info.description.match(/"([^"]+)"/)||[])[1];});
document.getElementById('go').onclick=async()=>{const f=document.getElementById('f').files[0];if(!f)return;
const r=await fetch('/v1/models/'+window.modelName+':predict',{method:'POST',headers:{'content-type':f.type||'application/octet-stream'},body:f});
document.getElementById('out').textContent=r.status+'\\n'+JSON.stringify(await r.json(),null,2);};
</script></body></html>`;
