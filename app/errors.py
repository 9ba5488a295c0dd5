"""One error shape for the whole API: HTTP status + ``{"detail": "what to change"}``."""


class ApiError(Exception):
    """A request the app refuses; ``status_code`` is the HTTP status to answer."""

    def __init__(self, status_code: int, detail: str, loc: list | None = None):
        super().__init__(detail)
        self.status_code, self.detail = status_code, detail
        #: Where in the request body the problem is (e.g. ["body", "epochs"]), when known.
        self.loc = loc
