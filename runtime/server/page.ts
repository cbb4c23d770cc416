import Router from '@koa/router';
import type { ServerDeps } from './deps.js';

/** The page at `/`: draw or upload a digit, see the prediction and its uncertainty, and live figures. */
export function pageRoutes(deps: ServerDeps): Router {
  const r = new Router();
  r.get('/', (ctx) => {
    ctx.type = 'html';
    ctx.body = PAGE.replace('__MODEL__', JSON.stringify(deps.model.name));
  });
  return r;
}

const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>digitserve</title><style>
body{font:15px system-ui,sans-serif;margin:1.5rem;color:#222;display:grid;grid-template-columns:300px 1fr;gap:1.5rem;max-width:62rem}
h1{grid-column:1/3;margin:0}canvas{border:2px solid #444;border-radius:6px;background:#fff;touch-action:none;cursor:crosshair}
button{font:inherit;padding:.3rem .8rem;margin:.3rem .3rem 0 0}#digit{font-size:4rem;font-weight:700;margin:0}
.bar{display:flex;align-items:center;gap:.4rem;margin:2px 0}.bar span{width:1rem}.bar div{background:#4a7bd0;height:12px}
.ok{color:#17803d}.no{color:#b3261e}#figs{grid-column:1/3;color:#555;font-size:13px}table td{padding:0 .6rem 0 0}
</style></head><body><h1>digitserve</h1>
<div><canvas id="c" width="280" height="280" aria-label="draw a digit"></canvas><br>
<button id="clear">Clear</button><button id="send">Predict</button><br><input type="file" id="file" accept="image/*"></div>
<div id="result"><p id="digit">–</p><p id="verdict">Draw a digit or upload an image.</p><div id="bars"></div><table id="unc"></table></div>
<div id="figs">…</div>
<script>
const MODEL=__MODEL__;const c=document.getElementById('c');const g=c.getContext('2d');
function clear(){g.fillStyle='#fff';g.fillRect(0,0,c.width,c.height);}clear();
g.lineWidth=18;g.lineCap='round';g.lineJoin='round';g.strokeStyle='#000';let down=false;
c.onpointerdown=e=>{down=true;g.beginPath();g.moveTo(e.offsetX,e.offsetY);};
c.onpointermove=e=>{if(!down)return;g.lineTo(e.offsetX,e.offsetY);g.stroke();};
window.onpointerup=()=>{if(down){down=false;predictCanvas();}};
document.getElementById('clear').onclick=()=>{clear();};
document.getElementById('send').onclick=()=>predictCanvas();
document.getElementById('file').onchange=e=>{const f=e.target.files[0];if(f)send(f,f.type||'application/octet-stream');};
function predictCanvas(){c.toBlob(b=>send(b,'image/png'),'image/png');}
async function send(body,type){const r=await fetch('/v1/models/'+encodeURIComponent(MODEL)+':predict',{method:'POST',headers:{'content-type':type},body});
const j=await r.json();if(!r.ok){document.getElementById('verdict').textContent='Error '+r.status+': '+j.error.message;return;}show(j.predictions[0]);}
function show(p){document.getElementById('digit').textContent=p.digit;const v=document.getElementById('verdict');
v.className=p.reliable?'ok':'no';v.textContent=(p.reliable?'reliable':'not reliable')+' — confidence '+(p.confidence*100).toFixed(1)+'%';
document.getElementById('bars').innerHTML=p.probabilities.map((q,i)=>'<div class="bar"><span>'+i+'</span><div style="width:'+(q*200).toFixed(0)+'px"></div>'+(q*100).toFixed(1)+'%</div>').join('');
document.getElementById('unc').innerHTML=Object.entries(p.uncertainty).map(([k,v])=>'<tr><td>'+k+'</td><td>'+(typeof v==='number'?v.toFixed(4):v)+'</td></tr>').join('');}
async function figs(){try{const s=await (await fetch('/v1/stats')).json();document.getElementById('figs').textContent=
'model '+s.model.name+' v'+s.model.version+' ('+s.model.track+', T='+s.model.samples+', backend '+s.backend+') · '+s.requestsPerSecond.toFixed(1)+' req/s · p95 '+(s.latencyP95Seconds*1000).toFixed(0)+' ms · queue '+s.queueDepthNow;}catch(e){}}
figs();setInterval(figs,2000);
</script></body></html>`;
