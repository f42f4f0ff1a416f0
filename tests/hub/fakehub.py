"""A Hugging Face Hub-compatible HTTP server on loopback, enough for huggingface_hub 2.4.

It serves what ``hf_hub_download``, ``snapshot_download``, ``create_repo`` and
``create_commit`` call, with the headers the client relies on:

- ``HEAD|GET /{repo}/resolve/{revision}/{path}``: ``X-Repo-Commit``, ``ETag`` (git blob id),
  ``Content-Length``. ``*.safetensors`` behave like LFS files on the real Hub: a 302 to a
  "CDN" on another host name (``localhost`` instead of ``127.0.0.1``) carrying
  ``X-Linked-Etag`` (sha256) and ``X-Linked-Size``; ``GET /cdn/{sha256}`` serves the bytes.
  Errors carry ``X-Error-Code`` (``RepoNotFound``, ``RevisionNotFound``, ``EntryNotFound``).
- ``GET /api/models/{repo}[/revision/{rev}]`` (model info with ``sha`` and ``siblings``),
  ``GET /api/models/{repo}/tree/{rev}`` (recursive file listing).
- ``POST /api/repos/create``, ``/api/validate-yaml``, ``/api/models/{repo}/preupload/{rev}``
  (every file "regular") and ``/api/models/{repo}/commit/{rev}`` (NDJSON, base64 contents).

Every request is logged in ``FakeHub.requests`` as ``(method, path)`` so tests can assert
what reached the server (e.g. that a cache hit sent no GET).

Run it alone with ``python tests/hub/fakehub.py`` to point a shell's ``HF_ENDPOINT`` at it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class FakeHub:
    """In-memory repositories (commits and branches) behind a loopback HTTP server.

    Example:
        >>> hub = FakeHub().start()
        >>> sha = hub.commit("org/model", {"a.json": b"{}"})
        >>> hub.endpoint.startswith("http://127.0.0.1:")
        True
        >>> hub.stop()
    """

    def __init__(self) -> None:
        self.repos: dict[str, dict] = {}
        self.requests: list[tuple[str, str]] = []
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    # -- state ----------------------------------------------------------------------------------
    def create(self, repo_id: str) -> bool:
        with self._lock:
            if repo_id in self.repos:
                return False
            self.repos[repo_id] = {"commits": {}, "refs": {}}
            return True

    def commit(self, repo_id: str, files: dict[str, bytes], *, branch: str = "main", replace: bool = False) -> str:
        """Add a commit on ``branch`` (files merged over the parent unless ``replace``); return its id."""
        self.create(repo_id)
        with self._lock:
            repo = self.repos[repo_id]
            parent = repo["refs"].get(branch)
            tree = {} if replace or parent is None else dict(repo["commits"][parent])
            tree.update(files)
            digest = hashlib.sha1((parent or "").encode())
            for name in sorted(tree):
                digest.update(name.encode() + b"\0" + hashlib.sha256(tree[name]).digest())
            sha = digest.hexdigest()
            repo["commits"][sha] = tree
            repo["refs"][branch] = sha
            return sha

    def resolve(self, repo_id: str, revision: str) -> str | None:
        repo = self.repos[repo_id]
        if revision in repo["refs"]:
            return repo["refs"][revision]
        return revision if revision in repo["commits"] else None

    def gets(self, fragment: str) -> int:
        """How many GET requests hit a path containing ``fragment``."""
        return sum(1 for m, p in self.requests if m == "GET" and fragment in p)

    # -- server ---------------------------------------------------------------------------------
    def start(self) -> FakeHub:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.hub = self  # type: ignore[attr-defined]
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True, name="fakehub").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the hub first"
        return self._server.server_address[1]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def cdn(self) -> str:
        # another host name for the same socket: huggingface_hub must treat it as a foreign CDN
        return f"http://localhost:{self.port}"


def _is_lfs(path: str) -> bool:
    return path.endswith(".safetensors")


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeHub/1.0"

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    @property
    def hub(self) -> FakeHub:
        return self.server.hub  # type: ignore[attr-defined]

    # -- plumbing -------------------------------------------------------------------------------
    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
              content_type: str = "application/octet-stream") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, obj: object, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj).encode(), headers, "application/json")

    def _error(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        self._json({"error": message}, status, {"X-Error-Code": code, "X-Error-Message": message, **(headers or {})})

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _route(self) -> None:
        path = unquote(urlsplit(self.path).path)
        self.hub.requests.append((self.command, path))
        if path.startswith("/cdn/"):
            return self._cdn(path[len("/cdn/"):])
        if path.startswith("/api/"):
            return self._api(path[len("/api/"):])
        if "/resolve/" in path:
            repo_id, rest = path.lstrip("/").split("/resolve/", 1)
            revision, _, filename = rest.partition("/")
            return self._resolve(repo_id, revision, filename)
        self._error(404, "NotFound", f"no route for {path}")

    do_GET = do_HEAD = do_POST = _route  # noqa: N815 - the names http.server dispatches to

    # -- downloads ------------------------------------------------------------------------------
    def _resolve(self, repo_id: str, revision: str, filename: str) -> None:
        hub = self.hub
        if repo_id not in hub.repos:
            return self._error(404, "RepoNotFound", f"Repository {repo_id} not found")
        sha = hub.resolve(repo_id, revision)
        if sha is None:
            return self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        tree = hub.repos[repo_id]["commits"][sha]
        if filename not in tree:
            return self._error(404, "EntryNotFound", f"{filename} does not exist at {revision}",
                               {"X-Repo-Commit": sha})
        data = tree[filename]
        headers = {"X-Repo-Commit": sha, "ETag": f'"{git_blob_id(data)}"'}
        if _is_lfs(filename):
            digest = hashlib.sha256(data).hexdigest()
            headers.update({"X-Linked-Etag": f'"{digest}"', "X-Linked-Size": str(len(data)),
                            "Location": f"{hub.cdn}/cdn/{digest}"})
            return self._send(302, b"", headers)
        self._send(200, data, headers)

    def _cdn(self, digest: str) -> None:
        for repo in self.hub.repos.values():
            for tree in repo["commits"].values():
                for data in tree.values():
                    if hashlib.sha256(data).hexdigest() == digest:
                        return self._send(200, data, {"ETag": f'"{digest}"'})
        self._send(404, b"no such blob")

    # -- API ------------------------------------------------------------------------------------
    def _api(self, path: str) -> None:
        hub = self.hub
        if path == "repos/create" and self.command == "POST":
            payload = json.loads(self._body() or b"{}")
            repo_id = "/".join(p for p in (payload.get("organization"), payload["name"]) if p)
            if not hub.create(repo_id):  # the real Hub's 409 also carries the url
                return self._json({"error": "You already created this model repo", "url": f"{hub.endpoint}/{repo_id}"},
                                  409, {"X-Error-Message": "You already created this model repo"})
            return self._json({"url": f"{hub.endpoint}/{repo_id}", "name": repo_id})
        if path == "validate-yaml":
            self._body()
            return self._json({"errors": [], "warnings": []})
        if not path.startswith("models/"):
            return self._error(404, "NotFound", f"no API route {path}")
        rest = path[len("models/"):]
        for marker in ("/revision/", "/tree/", "/preupload/", "/commit/"):
            if marker in rest:
                repo_id, tail = rest.split(marker, 1)
                action = marker.strip("/")
                break
        else:
            repo_id, tail, action = rest, "main", "revision"
        if repo_id not in hub.repos:
            return self._error(404, "RepoNotFound", f"Repository {repo_id} not found")
        if action == "preupload":
            payload = json.loads(self._body())
            return self._json({"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                                         for f in payload["files"]]})
        if action == "commit":
            return self._commit(repo_id, tail)
        revision, _, sub = tail.partition("/")
        sha = hub.resolve(repo_id, revision)
        if sha is None:
            return self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        tree = hub.repos[repo_id]["commits"][sha]
        if action == "revision":
            return self._json({"id": repo_id, "modelId": repo_id, "sha": sha, "private": False,
                               "siblings": [{"rfilename": name} for name in sorted(tree)]})
        entries = []
        for name in sorted(tree):
            if sub and not name.startswith(sub.rstrip("/") + "/"):
                continue
            data = tree[name]
            entry = {"type": "file", "oid": git_blob_id(data), "size": len(data), "path": name}
            if _is_lfs(name):
                entry["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
            entries.append(entry)
        self._json(entries)

    def _commit(self, repo_id: str, branch: str) -> None:
        files: dict[str, bytes] = {}
        for line in self._body().splitlines():
            item = json.loads(line)
            if item["key"] == "file":
                value = item["value"]
                files[value["path"]] = base64.b64decode(value["content"])
            elif item["key"] != "header":
                return self._error(400, "BadRequest", f"fake hub cannot handle commit operation {item['key']}")
        sha = self.hub.commit(repo_id, files, branch=branch)
        self._json({"commitUrl": f"{self.hub.endpoint}/{repo_id}/commit/{sha}", "commitOid": sha})


if __name__ == "__main__":  # pragma: no cover - manual use
    hub = FakeHub().start()
    print(f"export HF_ENDPOINT={hub.endpoint}   (Ctrl-C to stop)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        hub.stop()
