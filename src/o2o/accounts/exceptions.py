from __future__ import annotations

from o2o.core.errors import Conflict, Forbidden, InvalidInput, Unauthorized


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"
    title = "Login failed"


class InvalidToken(Unauthorized):
    code = "invalid_token"
    title = "Invalid or expired token"


class NotAuthenticated(Unauthorized):
    code = "not_authenticated"


class LoginTaken(Conflict):
    code = "login_taken"


class WeakPassword(InvalidInput):
    code = "weak_password"


class NotAllowed(Forbidden):
    code = "not_allowed"
