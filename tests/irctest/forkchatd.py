"""irctest controller for forkchatd's irc dialect.

Loaded by irctest with --controller forkchatd (this folder on PYTHONPATH);
FORKCHATD names the binary (default: bin/forkchatd of this checkout).
Starts three workers, so that the suite also crosses workers.
"""
import hashlib
import os
from pathlib import Path
import shutil
from typing import Optional, Set, Type

from irctest.basecontrollers import (
    BaseServerController,
    DirectoryBasedController,
    NotImplementedByController,
)

HERE = Path(__file__).resolve().parent
DEFAULT_BIN = HERE.parent.parent / "bin" / "forkchatd"


def oper_block(name: str, password: str, iterations: int = 1000) -> str:
    """The --irc-oper value for irctest's operator (operuser/operpassword)."""
    salt = os.urandom(16)
    key = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"{name}:pbkdf2-sha256${iterations}${salt.hex()}${key.hex()}"


class ForkchatdController(BaseServerController, DirectoryBasedController):
    software_name = "forkchatd"
    supported_sasl_mechanisms: Set[str] = set()
    supports_sts = False

    def run(
        self,
        hostname: str,
        port: int,
        *,
        password: Optional[str],
        ssl: bool,
        run_services: bool,
        faketime: Optional[str],
    ) -> None:
        assert self.proc is None
        if run_services:
            raise NotImplementedByController("services")
        self.port = port
        self.hostname = hostname
        self.create_config()
        assert self.directory
        binary = os.environ.get("FORKCHATD", str(DEFAULT_BIN))
        args = [
            binary,
            "-f",
            "-w",
            os.environ.get("FORKCHATD_WORKERS", "3"),
            "--server-name",
            "My.Little.Server",
            "--log-level",
            "warn",
            # this instance's own control socket and spool, not the
            # machine's defaults (another daemon may hold those)
            "--control-socket",
            str(self.directory / "ctl.sock"),
            "--spool-dir",
            str(self.directory / "spool"),
            # irctest's tests assume a server without a server-wide
            # channel: no &all (with its JOIN/QUIT of everyone) unless asked
            "--irc-join-all",
            "0",
            # irctest's operator block
            "--irc-oper",
            oper_block("operuser", "operpassword"),
            # the suite's clients answer no PING of ours
            "--ping-interval",
            "300",
            "--pong-timeout",
            "300",
        ]
        if password is not None:
            args += ["--irc-password", password]
        if ssl:
            self.gen_ssl()
            args += ["-l", f"irc+tls={hostname}:{port}"]
            args += ["--tls-cert", str(self.pem_path), "--tls-key", str(self.key_path)]
        else:
            args += ["-l", f"irc={hostname}:{port}"]
        if faketime and shutil.which("faketime"):
            args = ["faketime", "-f", faketime, *args]
            self.faketime_enabled = True
        self.proc = self.execute(args)


def get_irctest_controller_class() -> Type[ForkchatdController]:
    return ForkchatdController
