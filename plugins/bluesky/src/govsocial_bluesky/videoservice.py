"""A small emulator of Bluesky's video service (``video.bsky.app``), for the tests.

Built from the lexicons shipped in ``@atproto/api`` (the npm package the reference-server
fixture installs: ``node_modules/@atproto/api/dist/client/lexicons.js``, entries
``AppBskyVideoGetUploadLimits``, ``AppBskyVideoUploadVideo``, ``AppBskyVideoGetJobStatus``,
``AppBskyVideoDefs#jobStatus``) and docs.bsky.app's "Uploading video" tutorial
(https://docs.bsky.app/docs/tutorials/video):

- ``GET /xrpc/app.bsky.video.getUploadLimits``: a service token whose ``aud`` is this
  service's DID and ``lxm`` the method; answers ``canUpload``, ``remainingDailyVideos``,
  ``remainingDailyBytes``, ``message``;
- ``POST /xrpc/app.bsky.video.uploadVideo?did=&name=``: ``video/mp4`` bytes and a service
  token for the user's PDS (``lxm`` ``com.atproto.repo.uploadBlob``); answers
  ``{"jobStatus": ...}`` (the lexicon's output);
- ``GET /xrpc/app.bsky.video.getJobStatus?jobId=``: no authentication (the tutorial's
  agent has no session); the job moves through the lexicon's known states and, as the
  tutorial says the real service does, stores the video on the user's PDS **with the
  user's service token** (``com.atproto.repo.uploadBlob`` on the real reference PDS, which
  checks the token), then answers ``JOB_STATE_COMPLETED`` with the PDS's blob ref.

Assumed, as the pages do not say: the video is stored as uploaded (no transcoding), a
second upload of the same bytes by the same account answers 409 ``already_exists`` with the
earlier job's id, and a refused token answers 401 ``InvalidToken``. The service token's
signature is not checked here (the PDS checks the one it receives); its claims are
recorded for the tests. Failure modes: ``limits`` (what getUploadLimits answers),
``fail_with`` (the next job fails with this ``failureCode``), ``processing_polls``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

__all__ = ["Job", "VideoServiceEmulator"]

LIMITS = "app.bsky.video.getUploadLimits"
UPLOAD = "app.bsky.video.uploadVideo"
STATUS = "app.bsky.video.getJobStatus"
UPLOAD_BLOB = "com.atproto.repo.uploadBlob"
#: the states a job passes through before it completes (AppBskyVideoDefs#jobStatus)
STATES = ("JOB_STATE_CREATED", "JOB_STATE_ENCODING", "JOB_STATE_SCANNING", "JOB_STATE_UPLOADING")


@dataclass
class Job:
    """One processing job: the bytes, the token to store them with, the outcome."""

    job_id: str
    did: str
    name: str
    data: bytes
    token: str
    state: str = "JOB_STATE_CREATED"
    polls: int = 0
    blob: dict[str, Any] | None = None
    failure: str = ""
    error: str = ""

    def status(self) -> dict[str, Any]:
        """The job as AppBskyVideoDefs#jobStatus."""
        found: dict[str, Any] = {"jobId": self.job_id, "did": self.did, "state": self.state}
        if self.state not in ("JOB_STATE_COMPLETED", "JOB_STATE_FAILED"):
            found["progress"] = min(99, self.polls * 25)
        if self.blob is not None:
            found["blob"] = self.blob
        if self.failure:
            found["failureCode"], found["error"] = self.failure, self.error
        return found


@dataclass
class VideoServiceEmulator:
    """The service's state and aiohttp app; ``pds_url`` is where jobs store their videos."""

    pds_url: str
    did: str = "did:web:video.test"
    base_url: str = ""
    processing_polls: int = 2
    fail_with: str | None = None
    limits: dict[str, Any] = field(
        default_factory=lambda: {
            "canUpload": True,
            "remainingDailyVideos": 25,
            "remainingDailyBytes": 10 * 1024**3,
        }
    )
    jobs: dict[str, Job] = field(default_factory=dict)
    #: every request: (method, XRPC method, query, the bearer token's claims or None)
    requests: list[tuple[str, str, dict[str, str], dict[str, Any] | None]] = field(
        default_factory=list
    )
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        """The aiohttp application serving the three methods."""
        app = web.Application(client_max_size=200 * 1024 * 1024)
        app.router.add_get(f"/xrpc/{LIMITS}", self._limits)
        app.router.add_post(f"/xrpc/{UPLOAD}", self._upload)
        app.router.add_get(f"/xrpc/{STATUS}", self._status)
        return app

    def calls(self, method: str) -> list[tuple[str, str, dict[str, str], dict[str, Any] | None]]:
        """The requests made to XRPC method ``method``."""
        with self.lock:
            return [r for r in self.requests if r[1] == method]

    # -- handlers -----------------------------------------------------------------------------

    def _record(self, request: web.Request, method: str) -> dict[str, Any] | None:
        claims = _claims(request.headers.get("Authorization", ""))
        with self.lock:
            self.requests.append((request.method, method, dict(request.query), claims))
        return claims

    async def _limits(self, request: web.Request) -> web.Response:
        claims = self._record(request, LIMITS)
        refused = _refuse(claims, aud=self.did, lxm=LIMITS)
        if refused is not None:
            return refused
        return web.json_response(dict(self.limits))

    async def _upload(self, request: web.Request) -> web.Response:
        claims = self._record(request, UPLOAD)
        refused = _refuse(claims, aud=None, lxm=UPLOAD_BLOB)
        if refused is not None:
            return refused
        assert claims is not None
        did = request.query.get("did", "")
        if not did or did != claims.get("iss"):
            return _error(400, "InvalidRequest", "did must be the token's issuer")
        if request.content_type != "video/mp4":
            return _error(400, "InvalidRequest", "the body must be video/mp4")
        data = await request.read()
        if not data:
            return _error(400, "InvalidRequest", "empty video")
        token = request.headers["Authorization"].removeprefix("Bearer ").strip()
        digest = hashlib.sha256(data).hexdigest()
        with self.lock:
            for job in self.jobs.values():
                same = job.did == did and hashlib.sha256(job.data).hexdigest() == digest
                if same and job.state != "JOB_STATE_FAILED":
                    return web.json_response(
                        {
                            "error": "already_exists",
                            "message": "video already processed",
                            "jobId": job.job_id,
                        },
                        status=409,
                    )
            job = Job(f"job-{next(self._ids)}", did, request.query.get("name", ""), data, token)
            if self.fail_with:
                job.state, job.failure = "JOB_STATE_FAILED", self.fail_with
                job.error = f"the video could not be processed ({self.fail_with})"
                self.fail_with = None
            self.jobs[job.job_id] = job
            return web.json_response({"jobStatus": job.status()})

    async def _status(self, request: web.Request) -> web.Response:
        self._record(request, STATUS)
        with self.lock:
            job = self.jobs.get(request.query.get("jobId", ""))
            if job is None:
                return _error(400, "InvalidRequest", "no such job")
            if job.state in ("JOB_STATE_COMPLETED", "JOB_STATE_FAILED"):
                return web.json_response({"jobStatus": job.status()})
            job.polls += 1
            job.state = STATES[min(job.polls, len(STATES) - 1)]
            due = job.polls > self.processing_polls
        if due:
            await self._store(job)
        with self.lock:
            return web.json_response({"jobStatus": job.status()})

    async def _store(self, job: Job) -> None:
        """Put the video on the user's PDS with the user's service token, as the service
        does; the PDS's blob ref, or a pds_upload_failure with the PDS's words."""
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{self.pds_url}/xrpc/{UPLOAD_BLOB}",
                data=job.data,
                headers={"Authorization": f"Bearer {job.token}", "Content-Type": "video/mp4"},
            ) as response,
        ):
            answer = await response.json(content_type=None)
        with self.lock:
            blob = answer.get("blob") if isinstance(answer, dict) else None
            if response.status == 200 and isinstance(blob, dict):
                job.state, job.blob = "JOB_STATE_COMPLETED", blob
            else:
                job.state, job.failure = "JOB_STATE_FAILED", "pds_upload_failure"
                job.error = f"the PDS refused the video: {answer}"


def _claims(header: str) -> dict[str, Any] | None:
    """The payload of a bearer JWT (not verified: see the module's description)."""
    token = header.removeprefix("Bearer ").strip()
    parts = token.split(".")
    if not header.startswith("Bearer ") or len(parts) != 3:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, binascii.Error):
        return None
    return claims if isinstance(claims, dict) else None


def _refuse(claims: dict[str, Any] | None, *, aud: str | None, lxm: str) -> web.Response | None:
    if claims is None:
        return _error(401, "AuthMissing", "a service token is required")
    if aud is not None and claims.get("aud") != aud:
        return _error(401, "InvalidToken", f"the token is not for {aud}")
    if claims.get("lxm") != lxm:
        return _error(401, "InvalidToken", f"the token is not bound to {lxm}")
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp < time.time():
        return _error(401, "ExpiredToken", "the token expired")
    return None


def _error(status: int, error: str, message: str) -> web.Response:
    return web.json_response({"error": error, "message": message}, status=status)
