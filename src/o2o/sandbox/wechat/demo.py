"""The WeChat Pay sandbox of ``o2o demo --payments wechat-sandbox``.

The platform is configured as for the real WeChat Pay, except that its API base is a host
that only exists in-process (requests to it go to the simulator, not the network). The
simulator is also mounted in the platform's app at ``/sandbox/wechat``, where its wallet page
lives; in the sandbox the QR's ``code_url`` is that page's address (WeChat Pay's
``weixin://`` link would open the real WeChat app, which knows nothing of the sandbox), so a
phone on the same network can scan it, and the pay page links to it. Notifications go to the
platform in-process, on WeChat Pay's retry schedule compressed 60 times.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx
from starlette.applications import Starlette

from o2o.sandbox.wechat.provision import SandboxAccount, provision
from o2o.sandbox.wechat.simulator import WechatPaySimulator

PROVIDER = "wechat"
HOST = "api.mch.weixin.sandbox"  # never resolves: only the in-process router knows it
MOUNT = "/sandbox/wechat"


@dataclass
class WechatSandbox:
    account: SandboxAccount
    simulator: WechatPaySimulator

    provider: str = PROVIDER
    host: str = HOST
    mount: str = MOUNT
    title: str = "WeChat Pay"

    @property
    def transport(self) -> httpx.AsyncBaseTransport:
        """How the platform's WeChat Pay client reaches the simulator."""
        return httpx.ASGITransport(app=self.simulator.app)

    def settings(self) -> dict[str, object]:
        return self.account.settings(api_base=f"http://{HOST}")

    def attach(self, app: Starlette) -> None:
        """Serve the wallet page from the platform's app, and notify that app in-process."""
        app.mount(MOUNT, self.simulator.app)
        self.simulator.notify_transport = httpx.ASGITransport(app=app)


def start(directory: Path, *, base_url: str) -> WechatSandbox:
    account = provision(directory)
    simulator = WechatPaySimulator(
        platform_key=account.platform_key(),
        platform_serial=account.platform_serial,
        merchants=[account.merchant()],
        page_base=base_url.rstrip("/") + MOUNT,
    )
    return WechatSandbox(account, simulator)
