"""Calls a digitserve runtime with Triton's tritonclient over HTTP and gRPC and prints what it saw.

Run by test/clients/tritonclient.test.ts from the project's Python environment
(hack/python/venv.sh). This script only calls and records; the jest test holds the expectations.

usage: python tritonclient_calls.py CASES.json
CASES.json: {"http": "127.0.0.1:PORT", "grpc": "127.0.0.1:PORT", "model": NAME,
             "images": [PATH, ...], "pixels": PATH (float32 little-endian, n*784), "pixelCount": n}
"""
import json
import sys

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

OUTPUTS = ["probabilities", "digit", "confidence", "reliable", "predictive_entropy", "mutual_information"]


def result_of(result, module, binary_outputs=None):
    """The outputs as lists, with their shapes and dtypes, from a tritonclient InferResult."""
    out = {}
    for name in OUTPUTS:
        arr = result.as_numpy(name)
        out[name] = None if arr is None else {"shape": list(arr.shape), "dtype": str(arr.dtype), "values": arr.tolist()}
    seen = {"outputs": out}
    if module is httpclient:
        header = result.get_response()
        seen["binaryOutputs"] = [o["name"] for o in header["outputs"] if "binary_data_size" in o.get("parameters", {})]
        seen["id"] = header.get("id")
    else:
        seen["id"] = result.get_response().id
    return seen


def error_of(fn):
    try:
        fn()
    except InferenceServerException as e:
        return {"status": str(e.status()), "message": e.message()}
    return {"status": "OK", "message": ""}


def image_input(module, paths, binary=True):
    files = [open(p, "rb").read() for p in paths]
    inp = module.InferInput("image", [len(files)], "BYTES")
    if module is httpclient and not binary:
        # JSON BYTES elements are strings; digitserve reads them as base64 (SPEC §3)
        import base64
        inp.set_data_from_numpy(np.array([base64.b64encode(f).decode() for f in files], dtype=np.object_), binary_data=False)
    elif module is httpclient:
        inp.set_data_from_numpy(np.array(files, dtype=np.object_), binary_data=True)
    else:
        inp.set_data_from_numpy(np.array(files, dtype=np.object_))
    return inp


def pixel_input(module, pixels, binary=True):
    inp = module.InferInput("pixels", list(pixels.shape), "FP32")
    if module is httpclient:
        inp.set_data_from_numpy(pixels, binary_data=binary)
    else:
        inp.set_data_from_numpy(pixels)
    return inp


def session(module, url, cases, pixels):
    model = cases["model"]
    c = module.InferenceServerClient(url=url)
    seen = {
        "live": c.is_server_live(),
        "ready": c.is_server_ready(),
        "modelReady": c.is_model_ready(model),
        "serverMetadata": c.get_server_metadata() if module is httpclient else c.get_server_metadata(as_json=True),
        "modelMetadata": c.get_model_metadata(model) if module is httpclient else c.get_model_metadata(model, as_json=True),
    }
    # defaults as a user calls them: HTTP sends binary tensors and asks for binary outputs
    seen["images"] = result_of(c.infer(model, [image_input(module, cases["images"])], request_id="imgs-1"), module)
    seen["pixels"] = result_of(c.infer(model, [pixel_input(module, pixels)]), module)
    if module is httpclient:
        json_outputs = [httpclient.InferRequestedOutput(n, binary_data=False) for n in OUTPUTS]
        seen["imagesJson"] = result_of(c.infer(model, [image_input(module, cases["images"], binary=False)], outputs=json_outputs), module)
        seen["pixelsJson"] = result_of(c.infer(model, [pixel_input(module, pixels, binary=False)], outputs=json_outputs), module)
        some = [httpclient.InferRequestedOutput("digit", binary_data=True), httpclient.InferRequestedOutput("reliable", binary_data=False)]
        seen["mixed"] = result_of(c.infer(model, [pixel_input(module, pixels)], outputs=some), module)
    else:
        seen["selected"] = result_of(c.infer(model, [pixel_input(module, pixels)], outputs=[grpcclient.InferRequestedOutput("digit")]), module)
    bad_shape = module.InferInput("pixels", [1, 784], "FP32")
    bad_shape.set_data_from_numpy(np.zeros((1, 784), dtype=np.float32))
    not_image = module.InferInput("image", [1], "BYTES")
    not_image.set_data_from_numpy(np.array([b"this is no image at all"], dtype=np.object_))
    truncated = module.InferInput("image", [1], "BYTES")
    truncated.set_data_from_numpy(np.array([open(cases["images"][0], "rb").read()[:80]], dtype=np.object_))
    wrong_type = module.InferInput("image", [1], "INT32")
    wrong_type.set_data_from_numpy(np.array([7], dtype=np.int32))
    seen["errors"] = {
        "badShape": error_of(lambda: c.infer(model, [bad_shape])),
        "notImage": error_of(lambda: c.infer(model, [not_image])),
        "truncatedPng": error_of(lambda: c.infer(model, [truncated])),
        "wrongDatatype": error_of(lambda: c.infer(model, [wrong_type])),
        "unknownModel": error_of(lambda: c.infer("no-such-model", [pixel_input(module, pixels)])),
    }
    # the process is still healthy after the refusals
    seen["readyAfterErrors"] = c.is_server_ready()
    c.close()
    return seen


def main():
    cases = json.load(open(sys.argv[1]))
    n = cases["pixelCount"]
    pixels = np.fromfile(cases["pixels"], dtype="<f4").reshape(n, 28, 28, 1)
    report = {
        "http": session(httpclient, cases["http"], cases, pixels),
        "grpc": session(grpcclient, cases["grpc"], cases, pixels),
    }
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
