"""Entrypoint of the converter image (Dockerfile.converter): the init container of a DigitModel
track whose spec.model.format / spec.canary.format is keras or savedmodel (docs/operator.md).

    entry.py --format keras|savedmodel --from SRC --out DIR

SRC is a path in this container (a pvc:// claim mounted read-only, or a file:// path) or an
http(s):// URL, which is downloaded into $TMPDIR first: with the header `Authorization:
$MODEL_AUTH_HEADER` when that is set, and with the metadata.json beside it when the server has one
(404/403: none). A SavedModel is a directory, or a .tar.gz/.tgz/.tar/.zip archive of one (the only
form over http), unpacked into $TMPDIR (members that would land outside it are refused).
ARTIFACT_SHA256, when set, must be the sha256 of the artifact file (the .keras/.h5 file or the
archive) before anything is loaded. Then runtime/import/convert.py converts into DIR and checks the
result on 100 MNIST digits; MODEL_VERSION is the version of a minimal metadata.json (an artifact
that brings its own metadata.json keeps its version, which the runtime then checks against the
track's). Every failure ends with one line on stderr and in the termination message, which the
operator puts into the DigitModel's Degraded condition.
"""
import hashlib
import os
import shutil
import ssl
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
TERMINATION_LOG = os.environ.get('TERMINATION_LOG', '/dev/termination-log')
MAX_ARTIFACT_BYTES = int(os.environ.get('MAX_ARTIFACT_BYTES', str(4 << 30)))
ARCHIVES = ('.tar.gz', '.tgz', '.tar', '.zip')


class Refused(Exception):
    """The artifact cannot be fetched, checked or unpacked (exit 2)."""


def fail(message, code):
    print(f'converter: {message}', file=sys.stderr, flush=True)
    try:
        with open(TERMINATION_LOG, 'w') as f:
            f.write(message[-3500:])
    except OSError:
        pass
    return code


def tls_context():
    cafile = os.environ.get('SSL_CERT_FILE')
    if not cafile:
        import certifi  # in the converter's environment (hack/python/requirements-convert.txt)
        cafile = certifi.where()
    return ssl.create_default_context(cafile=cafile)


def download(url, dest, optional=False):
    headers = {'User-Agent': 'digitserve-converter'}
    if os.environ.get('MODEL_AUTH_HEADER'):
        headers['Authorization'] = os.environ['MODEL_AUTH_HEADER']
    req = urllib.request.Request(url, headers=headers)
    ctx = tls_context() if url.startswith('https://') else None
    try:
        with urllib.request.urlopen(req, timeout=60, context=ctx) as r, open(dest, 'wb') as f:
            total = 0
            while True:
                chunk = r.read(1 << 20)
                if not chunk:
                    break
                total += len(chunk)
                if total > MAX_ARTIFACT_BYTES:
                    raise Refused(f'{url} is larger than {MAX_ARTIFACT_BYTES} bytes (MAX_ARTIFACT_BYTES)')
                f.write(chunk)
        return True
    except urllib.error.HTTPError as e:
        if optional and e.code in (403, 404):
            return False
        raise Refused(f'GET {url}: HTTP {e.code} {e.reason}') from e
    except (urllib.error.URLError, OSError) as e:
        if isinstance(e, Refused):
            raise
        raise Refused(f'GET {url}: {getattr(e, "reason", e)}') from e


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def inside(root, name):
    target = os.path.realpath(os.path.join(root, name))
    return target == root or target.startswith(root + os.sep)


def unpack(archive, dest):
    """Unpacks a SavedModel archive; returns the directory holding saved_model.pb."""
    root = os.path.realpath(dest)
    if archive.endswith('.zip'):
        with zipfile.ZipFile(archive) as z:
            for n in z.namelist():
                if not inside(root, n):
                    raise Refused(f'{os.path.basename(archive)}: member {n} would be written outside the directory')
            z.extractall(root)
    else:
        with tarfile.open(archive) as t:
            for m in t.getmembers():
                if not inside(root, m.name) or m.issym() or m.islnk() or m.isdev():
                    raise Refused(f'{os.path.basename(archive)}: member {m.name} is a link, a device or outside the directory')
            t.extractall(root)
    for d, _dirs, files in os.walk(root):
        if 'saved_model.pb' in files:
            return d
    raise Refused(f'{os.path.basename(archive)} holds no saved_model.pb (a SavedModel archive was expected)')


def fetch(fmt, src, work):
    """The local path of the artifact to convert, and the file its digest applies to (or None)."""
    if src.startswith(('http://', 'https://')):
        base = os.path.basename(urllib.parse.urlparse(src).path) or 'artifact'
        if fmt == 'savedmodel' and not base.endswith(ARCHIVES):
            raise Refused(f'{src}: a SavedModel over http(s) must be a {", ".join(ARCHIVES)} archive of its directory')
        local = os.path.join(work, base)
        download(src, local)
        meta_url = urllib.parse.urljoin(src, 'metadata.json')
        if download(meta_url, os.path.join(work, 'metadata.json.part'), optional=True):
            os.replace(os.path.join(work, 'metadata.json.part'), os.path.join(work, 'metadata.json'))
    else:
        local = src
        if not os.path.exists(local):
            raise Refused(f'{src}: no such file or directory (is the claim\'s path right?)')
    digest_file = local if os.path.isfile(local) else None
    return local, digest_file


def main(argv):
    import argparse
    p = argparse.ArgumentParser(prog='converter', description='fetch, check and convert a model artifact')
    p.add_argument('--format', required=True, choices=['keras', 'savedmodel'])
    p.add_argument('--from', dest='src', required=True)
    p.add_argument('--out', required=True)
    args = p.parse_args(argv)
    work = tempfile.mkdtemp(prefix='artifact-')
    try:
        local, digest_file = fetch(args.format, args.src, work)
        want = os.environ.get('ARTIFACT_SHA256', '').strip().lower()
        if want:
            if digest_file is None:
                raise Refused(f'{args.src} is a directory: ARTIFACT_SHA256 (the track\'s sha256) needs an archive or a file')
            got = sha256_of(digest_file)
            if got != want:
                raise Refused(f'{args.src} has sha256 {got}, the DigitModel says {want}: refusing to convert it')
        if args.format == 'savedmodel' and os.path.isfile(local):
            if not local.endswith(ARCHIVES):
                raise Refused(f'{args.src} is a file: format savedmodel takes a SavedModel directory or a {", ".join(ARCHIVES)} archive of one')
            local = unpack(local, os.path.join(work, 'savedmodel'))
        given = os.path.join(os.path.dirname(local) if os.path.isfile(local) else local, 'metadata.json')
        cmd = ['--format', args.format, '--from', local, '--out', args.out]
        if os.environ.get('MODEL_VERSION') and not os.path.isfile(given):
            cmd += ['--version', os.environ['MODEL_VERSION']]
        if os.environ.get('MODEL_NAME') and not os.path.isfile(given):
            cmd += ['--name', os.environ['MODEL_NAME']]
    except Refused as e:
        shutil.rmtree(work, ignore_errors=True)
        return fail(str(e), 2)
    # convert.py in its own process: its stderr streams through to the log, and its last line is
    # the reason a failure gives (TensorFlow's own log lines come before it)
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, 'convert.py'), *cmd], stderr=subprocess.PIPE, text=True)
    last = ''
    for line in proc.stderr:
        sys.stderr.write(line)
        if line.strip():
            last = line.strip()
    code = proc.wait()
    shutil.rmtree(work, ignore_errors=True)
    if code != 0:
        return fail(last or f'convert.py exited {code}', code)
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception as e:  # anything convert.py did not classify: still one line that says what
        sys.exit(fail(f'{type(e).__name__}: {e}', 1))
