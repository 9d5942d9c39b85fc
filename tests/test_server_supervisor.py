"""The supervisor of `painplan serve`'s workers: a stop that reaches a worker still starting stops that worker."""

from __future__ import annotations

import os

import pytest

from smart_app import server


def test_a_stop_that_reaches_a_worker_before_its_own_handler_ends_the_worker(monkeypatch):
    # A worker forked just before SIGTERM still runs the supervisor's handler (it installs its own a moment later).
    # That handler only signalled the "children" it had copied: the worker itself went on to serve, and
    # `painplan serve` never finished stopping (seen under load, when the second worker was still starting).
    supervisor = server.Supervisor(app=None, settings=None, sock=None, options=None)
    supervisor.children = {101: 0, 102: 1}
    killed: list[int] = []
    monkeypatch.setattr(os, "kill", lambda pid, _signal: killed.append(pid))
    monkeypatch.setattr(os, "getpid", lambda: supervisor.pid + 1)  # as seen from the freshly forked worker
    with pytest.raises(SystemExit):
        supervisor.stop()
    assert killed == []  # the worker never signals its siblings


def test_the_supervisor_itself_stops_every_worker(monkeypatch):
    supervisor = server.Supervisor(app=None, settings=None, sock=None, options=None)
    supervisor.children = {101: 0, 102: 1}
    killed: list[int] = []
    monkeypatch.setattr(os, "kill", lambda pid, _signal: killed.append(pid))
    supervisor.stop()
    assert supervisor.stopping and sorted(killed) == [101, 102]
