"""Docker images and the daemon for the Docker backend: one SDK client per process, the docker
CLI, a task's own image built from its Dockerfile and build context (tagged by their digest,
cached), and the in-memory tars that carry files into containers."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import tarfile
import threading
from pathlib import Path

from termcorpus.errors import DataError, EnvironmentProblem
from termcorpus.records import Task

BASE_IMAGE = "termcorpus/base:bookworm"
TASK_IMAGE_REPO = "termcorpus/task-env"
LABEL = "termcorpus.sandbox"
_API_TIMEOUT_SEC = 60
_BUILD_TIMEOUT_SEC = 600


def docker_host() -> str:
    """Where the SDK and CLI look for the daemon (for messages only)."""
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


_client_lock = threading.Lock()
_client_cache: tuple[int, object] | None = None  # (pid, docker.DockerClient)


def client():
    """A connected Docker SDK client (one per process), or EnvironmentProblem in one line."""
    global _client_cache
    with _client_lock:
        if _client_cache is not None and _client_cache[0] == os.getpid():
            return _client_cache[1]
        try:
            import docker
        except ImportError:
            raise EnvironmentProblem("the docker SDK is not installed: pip install docker==7.2.0")
        try:
            c = docker.from_env(timeout=_API_TIMEOUT_SEC)
            c.ping()
        except Exception as e:  # the SDK raises DockerException, requests or socket errors
            first = str(e).splitlines()[0][:160] if str(e) else type(e).__name__
            raise EnvironmentProblem(
                f"Docker daemon not reachable at {docker_host()} ({first}); start dockerd "
                "(scripts/start_dockerd.sh) or use sandbox: bwrap"
            )
        _client_cache = (os.getpid(), c)
        return c


def forget_client() -> None:
    """Drop the cached client (after the daemon was restarted or ``DOCKER_HOST`` changed)."""
    global _client_cache
    with _client_lock:
        _client_cache = None
    _known_images.clear()


def docker_cli() -> str:
    """The docker CLI: it carries the persistent shell's stdin/stdout/stderr streams."""
    path = shutil.which("docker")
    if path is None:
        raise EnvironmentProblem(
            "the docker CLI is not installed (apt-get update && apt-get install -y docker.io) "
            "or use sandbox: bwrap"
        )
    return path


_known_images: set[str] = set()


def _image_present(c, name: str) -> bool:
    if name in _known_images:
        return True
    import docker.errors

    try:
        c.images.get(name)
    except docker.errors.ImageNotFound:
        return False
    _known_images.add(name)
    return True


def _task_blobs(task: Task) -> list[tuple[str, bytes]]:
    blobs = [(rel, text.encode("utf-8")) for rel, text in sorted(task.files.items())]
    for rel, b64 in sorted(task.binary_files.items()):
        try:
            blobs.append((rel, base64.b64decode(b64, validate=True)))
        except ValueError:
            raise DataError(f"binary_files[{rel!r}] is not valid base64", where=f"task {task.id}")
    return sorted(blobs)


def _context_blobs(task: Task) -> list[tuple[str, bytes]]:
    """The build context: ``environment.build_context`` when the task carries one (imported
    tasks: exactly the files their COPY/ADD name), else the task's files."""
    ctx = task.environment.build_context
    if not ctx:
        return _task_blobs(task)
    try:
        return sorted((rel, base64.b64decode(b64, validate=True)) for rel, b64 in ctx.items())
    except ValueError:
        raise DataError("build_context holds invalid base64", where=f"task {task.id}")


def task_image_tag(task: Task) -> str:
    """The tag of a task's own image: a digest of its Dockerfile and build context."""
    h = hashlib.sha256(task.environment.dockerfile.encode("utf-8"))
    for rel, data in _context_blobs(task):
        h.update(b"\0" + rel.encode("utf-8") + b"\0" + hashlib.sha256(data).digest())
    return f"{TASK_IMAGE_REPO}:{h.hexdigest()[:24]}"


def image_for(task: Task) -> str:
    """The image a task runs in: built from its Dockerfile (cached by content), else named."""
    c = client()
    env = task.environment
    if not env.dockerfile:
        if _image_present(c, env.image):
            return env.image
        if env.image == BASE_IMAGE:  # never in a registry: built here
            raise EnvironmentProblem(f"image {env.image} not found in the Docker daemon (build it with "
                                     "scripts/docker_base_image.sh)", where=f"task {task.id}")
        import docker.errors

        try:
            c.images.pull(env.image)
        except docker.errors.APIError as e:
            raise EnvironmentProblem(f"image {env.image} is not in the Docker daemon and cannot be pulled "
                                     f"({str(e.explanation or e).splitlines()[0][:160]})", where=f"task {task.id}")
        _known_images.add(env.image)
        return env.image
    tag = task_image_tag(task)
    if _image_present(c, tag):
        return tag
    # Build context: the Dockerfile plus the task's files (a Dockerfile may COPY them).
    tar = _Tar().add("Dockerfile", env.dockerfile.encode("utf-8"), 0o644, 0)
    for rel, data in _context_blobs(task):
        tar.add(rel, data, 0o755 if data.startswith(b"#!") else 0o644, 0)
    context = tar.bytes()
    import docker.errors

    try:
        c.images.build(fileobj=io.BytesIO(context), custom_context=True, tag=tag, rm=True,
                       forcerm=True, network_mode="host",  # builds get the network (registries); runs do not
                       timeout=_BUILD_TIMEOUT_SEC, labels={LABEL: "image"})
    except docker.errors.BuildError as e:
        tail = [str(x.get("stream", x.get("error", ""))).strip() for x in e.build_log][-3:]
        raise DataError(f"Dockerfile does not build: {e.msg}; {' | '.join(t for t in tail if t)}",
                        where=f"task {task.id} environment.dockerfile")
    except docker.errors.APIError as e:
        raise DataError(f"Dockerfile does not build: {e.explanation or e}",
                        where=f"task {task.id} environment.dockerfile")
    _known_images.add(tag)
    return tag


class _Tar:
    """An in-memory tar for ``put_archive``: every entry with an explicit owner and mode."""

    def __init__(self) -> None:
        self._buf = io.BytesIO()
        self._tar = tarfile.open(fileobj=self._buf, mode="w", format=tarfile.PAX_FORMAT)

    def add(self, name: str, data: bytes | None, mode: int, uid: int) -> "_Tar":
        """A file (``data``) or, with ``data=None``, a directory."""
        info = tarfile.TarInfo(name)
        info.uid = info.gid = uid
        info.mode = mode
        info.mtime = 0
        if data is None:
            info.type = tarfile.DIRTYPE
            self._tar.addfile(info)
        else:
            info.size = len(data)
            self._tar.addfile(info, io.BytesIO(data))
        return self

    def tree(self, top: Path, arcname: str, uid: int) -> "_Tar":
        """The host directory ``top`` as ``arcname`` (modes kept, links kept as links)."""

        def own(info: tarfile.TarInfo) -> tarfile.TarInfo:
            info.uid = info.gid = uid
            info.uname = info.gname = ""
            return info

        self._tar.add(str(top), arcname=arcname, recursive=True, filter=own)
        return self

    def bytes(self) -> bytes:
        self._tar.close()
        return self._buf.getvalue()


def _archive_bytes(stream) -> bytes:
    return b"".join(stream)
