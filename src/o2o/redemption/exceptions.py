from __future__ import annotations

from o2o.core.errors import Conflict, Forbidden, NotFound


class UnknownCode(NotFound):
    code = "unknown_code"
    title = "No such code"


class AlreadyRedeemed(Conflict):
    code = "already_redeemed"
    title = "This code has already been used"


class CodeVoid(Conflict):
    code = "code_void"
    title = "This code is no longer valid"


class CodeOfAnotherStore(Forbidden):
    code = "code_of_another_store"
    title = "This code belongs to another store"
