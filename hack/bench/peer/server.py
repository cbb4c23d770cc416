"""The seed-style Python peer of `npm run bench:load -- --compare python`.

What a competent engineer deploys in an afternoon: FastAPI + uvicorn with one worker process per
(effective) core, the same model rebuilt in Keras from the TF.js weights (models/mnist-cnn/<v>:
model.json's topology and weights manifest, weights.bin), loaded once per worker at start, and MC
dropout as ONE batched call of T samples inside a tf.function: the image repeated T times, Dropout
layers active (training=True) exactly where the TF.js model has them, every other layer in inference
mode. Answers digit + mean probabilities (+ agreement share) over T samples.

    <venv>/bin/python hack/bench/peer/server.py --port 8091 [--model models/mnist-cnn/2] [--samples 30] [--workers N]

PEER_TF_THREADS=n caps each worker's TensorFlow thread pools (default: TensorFlow's own choice, which
measured faster here than 1 thread per worker: 65 against 51 req/s, same load, 2 cores).

Endpoints: POST /v1/models/mnist-cnn:predict (and /predict) with an image body (image/png, ...) or a
multipart/form-data upload; GET /healthz (ready once the worker's model is loaded and traced).

Preprocessing, simpler than the runtime's: decode with Pillow, grayscale (ITU-R 601-2 luma),
resize to 28 x 28 (bilinear) if it is not already, scale to [0, 1], invert when the mean is above
0.5 (a dark digit on a bright page), stretch so the brightest pixel is 1. For MNIST-form inputs
(28 x 28, white on black, as the bench sends) this is what the runtime does too; the runtime's
cropping, centre-of-mass placement, stroke-width and lighting steps for photos are not reproduced.
"""

import argparse
import io
import json
import os
import sys

FIELD = 28


def effective_cpus() -> int:
    """CPUs this process may use: cgroup v2 quota, then affinity, then the host count."""
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        quota, period = open("/sys/fs/cgroup/cpu.max").read().split()
        if quota != "max":
            n = min(n, max(1, int(-(-int(quota) // int(period)))))
    except (OSError, ValueError):
        pass
    return max(1, n)


def build_model(model_dir: str):
    """Keras model equivalent to the TF.js LayersModel in model_dir, with its weights set."""
    import numpy as np
    import tensorflow as tf

    with open(os.path.join(model_dir, "model.json")) as f:
        spec = json.load(f)
    topology = spec["modelTopology"]
    topology = topology.get("model_config", topology)
    if topology["class_name"] != "Sequential":
        raise ValueError(f"only Sequential TF.js models are rebuilt, not {topology['class_name']}")
    layer_specs = topology["config"]["layers"]
    first = layer_specs[0]["config"]
    shape = first.get("batch_input_shape") or first.get("batchInputShape")
    inputs = tf.keras.Input(shape=tuple(shape[1:]), name="image")

    # weights: the manifest's groups, concatenated in order, each entry a float32 tensor
    weights = {}
    for group in spec["weightsManifest"]:
        data = b"".join(open(os.path.join(model_dir, p), "rb").read() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            if w.get("dtype", "float32") != "float32" or "quantization" in w:
                raise ValueError(f"weight {w['name']}: only unquantised float32 is supported")
            count = int(np.prod(w["shape"])) if w["shape"] else 1
            weights[w["name"]] = np.frombuffer(data, dtype="<f4", count=count, offset=offset).reshape(w["shape"])
            offset += 4 * count

    keras_layers = []
    for ls in layer_specs:
        cls, cfg = ls["class_name"], ls["config"]
        name = cfg["name"]
        if cls == "Conv2D":
            layer = tf.keras.layers.Conv2D(cfg["filters"], tuple(cfg["kernel_size"]), strides=tuple(cfg["strides"]), padding=cfg["padding"],
                                           dilation_rate=tuple(cfg["dilation_rate"]), activation=cfg["activation"], use_bias=cfg["use_bias"], name=name)
        elif cls == "MaxPooling2D":
            layer = tf.keras.layers.MaxPooling2D(tuple(cfg["pool_size"]), strides=tuple(cfg["strides"]), padding=cfg["padding"], name=name)
        elif cls == "Flatten":
            layer = tf.keras.layers.Flatten(name=name)
        elif cls == "Dense":
            layer = tf.keras.layers.Dense(cfg["units"], activation=cfg["activation"], use_bias=cfg["use_bias"], name=name)
        elif cls == "Dropout":
            if cfg.get("noise_shape") is not None:
                raise ValueError(f"Dropout {name} uses noise_shape")
            layer = tf.keras.layers.Dropout(cfg["rate"], name=name)
        else:
            raise ValueError(f"layer {name}: {cls} is not rebuilt here")
        keras_layers.append((layer, cls))
    model = tf.keras.Sequential([inputs] + [layer for layer, _ in keras_layers], name=topology["config"].get("name", "model"))

    for layer, cls in keras_layers:
        if cls in ("Conv2D", "Dense"):
            names = [f"{layer.name}/kernel"] + ([f"{layer.name}/bias"] if layer.use_bias else [])
            layer.set_weights([weights.pop(n) for n in names])
    if weights:
        raise ValueError(f"weights not used by any layer: {sorted(weights)}")

    def mc_forward(x):
        """Dropout layers sample (training=True); every other layer runs in inference mode."""
        for layer, cls in keras_layers:
            x = layer(x, training=True) if cls == "Dropout" else layer(x, training=False)
        return x

    return model, mc_forward


def preprocess(body: bytes):
    import numpy as np
    from PIL import Image

    img = Image.open(io.BytesIO(body))
    img.load()
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        # transparent parts are page: flatten onto white
        img = img.convert("RGBA")
        bg = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(bg, img)
    img = img.convert("L")
    if img.size != (FIELD, FIELD):
        img = img.resize((FIELD, FIELD), Image.BILINEAR)
    x = np.asarray(img, dtype=np.float32) / 255.0
    if x.mean() > 0.5:
        x = 1.0 - x
    peak = float(x.max())
    if peak > 0:
        x = x / peak
    return x.reshape(1, FIELD, FIELD, 1)


def make_app(model_dir: str, samples: int):
    import numpy as np
    import tensorflow as tf
    from fastapi import FastAPI, HTTPException, Request
    from fastapi.responses import JSONResponse

    # optional cap on each worker's TensorFlow thread pools (see the module's doc)
    threads = int(os.environ.get("PEER_TF_THREADS", "0"))
    if threads > 0:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    _, mc_forward = build_model(model_dir)

    @tf.function(input_signature=[tf.TensorSpec([1, FIELD, FIELD, 1], tf.float32)])
    def mc_dropout(x):
        probs = mc_forward(tf.repeat(x, samples, axis=0))  # [T, 10], dropout sampled per row
        mean = tf.reduce_mean(probs, axis=0)
        digit = tf.argmax(mean, output_type=tf.int32)
        agree = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(probs, axis=1, output_type=tf.int32), digit), tf.float32))
        return digit, mean, agree

    mc_dropout(tf.zeros([1, FIELD, FIELD, 1]))  # trace once before serving

    app = FastAPI(title="seed-style MC-dropout peer")

    async def predict(request: Request):
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("multipart/form-data"):
            form = await request.form()
            files = [v for v in form.values() if hasattr(v, "read")]
            if not files:
                raise HTTPException(400, "multipart body has no file")
            body = await files[0].read()
        else:
            body = await request.body()
        if not body:
            raise HTTPException(400, "empty body: send an image")
        try:
            x = preprocess(body)
        except Exception as e:  # Pillow raises many types for bad bytes
            raise HTTPException(400, f"invalid image: {e}")
        digit, mean, agree = mc_dropout(tf.constant(x))
        return JSONResponse({"predictions": [{"digit": int(digit), "probabilities": np.round(mean.numpy(), 6).tolist(), "agreement": float(agree)}]})

    app.add_api_route("/v1/models/mnist-cnn:predict", predict, methods=["POST"])
    app.add_api_route("/predict", predict, methods=["POST"])

    @app.get("/healthz")
    async def healthz():
        return {"ready": True, "samples": samples, "pid": os.getpid()}

    return app


def app_factory():
    """uvicorn --factory entry point: each worker process builds its own app (and model) once."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return make_app(os.environ["PEER_MODEL_DIR"], int(os.environ.get("PEER_SAMPLES", "30")))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=8091)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--model", default=None, help="a model version directory (default: newest under models/mnist-cnn)")
    ap.add_argument("--samples", type=int, default=30)
    ap.add_argument("--workers", type=int, default=0, help="uvicorn worker processes (default: effective CPU count)")
    ap.add_argument("--check", nargs="*", metavar="IMAGE", help="print the predictions for these images and exit")
    args = ap.parse_args()
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
    model_dir = args.model
    if model_dir is None:
        base = os.path.join(root, "models", "mnist-cnn")
        versions = sorted((int(v) for v in os.listdir(base) if v.isdigit()), reverse=True)
        model_dir = os.path.join(base, str(versions[0]))
    os.environ["PEER_MODEL_DIR"] = os.path.abspath(model_dir)
    os.environ["PEER_SAMPLES"] = str(args.samples)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.check is not None:
        import tensorflow as tf
        _, mc_forward = build_model(model_dir)
        for p in args.check:
            x = preprocess(open(p, "rb").read())
            probs = mc_forward(tf.repeat(tf.constant(x), args.samples, axis=0)).numpy().mean(axis=0)
            print(json.dumps({"image": p, "digit": int(probs.argmax()), "probabilities": [round(float(v), 4) for v in probs]}))
        return
    workers = args.workers or effective_cpus()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import uvicorn
    print(json.dumps({"msg": "peer starting", "port": args.port, "workers": workers, "model": model_dir, "samples": args.samples}), flush=True)
    uvicorn.run("server:app_factory", factory=True, host=args.host, port=args.port, workers=workers, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
