"""Kaltura API errors: the catalogue of codes, argument names and message texts.

Every entry mirrors a constant of Kaltura's server (`api_v3/lib/KalturaErrors.php`, which wins over
`alpha/apps/kaltura/lib/webservices/APIErrors.class.php` when both define a name). The server
defines errors as ``"CODE;ARG1,ARG2;message with @ARG1@"``; here that is
``ERRORS["CODE"] = (("ARG1", "ARG2"), "message with @ARG1@")``.

Handlers raise ``ApiError("ENTRY_ID_NOT_FOUND", ENTRY_ID="0_abc")``; the envelope turns it into an
in-band ``KalturaAPIException`` (HTTP 200). Argument values are always strings, like the server's
``strip_tags((string) value)``; an argument that was not given renders as ``"N/A"``.

The media engineer appends the codes their services need; keep the dictionary sorted by code.
"""

from __future__ import annotations

import re

ERRORS: dict[str, tuple[tuple[str, ...], str]] = {
    "ACTION_BLOCKED": (
        ("ACTION_NAME", "SERVICE_NAME"),
        'Action "@ACTION_NAME@" in service "@SERVICE_NAME@" is blocked',
    ),
    "ACTION_DOES_NOT_EXISTS": (
        ("ACTION_NAME", "SERVICE_NAME"),
        'Action "@ACTION_NAME@" does not exists for service "@SERVICE_NAME@"',
    ),
    "ACTION_NOT_SPECIFIED": ((), "Action name was not specified, please specify one"),
    "ADMIN_LOGIN_USERS_QUOTA_EXCEEDED": ((), "Partner login users quota exceeded"),
    "APP_TOKEN_EXPIRED": (("ID",), 'Application token id "@ID@" expired'),
    "APP_TOKEN_ID_NOT_FOUND": (("ID",), 'Application token id "@ID@" not found'),
    "APP_TOKEN_NOT_ACTIVE": (("ID",), 'Application token id "@ID@" not active'),
    "CANNOT_CHANGE_OWN_ROLE": ((), "User cannot change his own role"),
    "CANNOT_RETRIEVE_ANOTHER_USER_USING_NON_ADMIN_SESSION": (
        ("USER_ID",),
        'cannot retrieve another user "@USER_ID@" using non-admin session',
    ),
    "CANNOT_SET_ROOT_ADMIN_AS_NO_ADMIN": ((), "Root admin user cannot be set to not admin"),
    "CATEGORY_NOT_FOUND": (("ID",), 'Category id "@ID@" not found'),
    "CONVERSION_PROFILE_ID_NOT_FOUND": (("ID",), 'Conversion profile id "@ID@" not found'),
    "DUPLICATE_USER_BY_ID": (("UID",), "User with id [@UID@] already exists in system"),
    "DUPLICATE_USER_BY_LOGIN_ID": (
        ("EMAIL",),
        "Loginable user with email [@EMAIL@] already exists in system",
    ),
    "ENTRY_ALREADY_WITH_CONTENT": ((), "Entry already associated with content"),
    "ENTRY_ID_NOT_FOUND": (("ENTRY_ID",), 'Entry id "@ENTRY_ID@" not found'),
    "ENTRY_NOT_READY": (("ENTRY_NAME",), 'Entry "@ENTRY_NAME@" is not ready'),
    "FLAVOR_PARAMS_ID_NOT_FOUND": (("ID",), 'Flavor params id "@ID@" not found'),
    "ID_AND_EXTERNAL_ID_ARE_MUTUALLY_EXCLUSIVE": (
        (),
        "id and externalId are mutually exclusive",
    ),
    "INTERNAL_DATABASE_ERROR": ((), "Internal database error"),
    "INTERNAL_SERVERL_ERROR": ((), "Internal server error occurred"),
    "INVALID_ACTIONS_LIMIT": ((), "Invalid actions limit"),
    "INVALID_APP_TOKEN_HASH": ((), "Invalid application token hash"),
    "INVALID_ENUM_VALUE": (
        ("ENUM_VAL", "PARAM_NAME", "ENUM_TYPE"),
        'Invalid enumeration value "@ENUM_VAL@" for parameter "@PARAM_NAME@", expecting enumeration type "@ENUM_TYPE@"',
    ),
    "INVALID_FIELD_VALUE": (("FIELD_NAME",), "value in field [@FIELD_NAME@] is not valid"),
    "INVALID_KS": (
        ("KSID", "ERR_CODE", "ERR_DESC"),
        'Invalid KS "@KSID@", Error "@ERR_CODE@,@ERR_DESC@"',
    ),
    "INVALID_OBJECT_TYPE": (("INVALID_OBJ_TYPE",), 'Invalid object type "@INVALID_OBJ_TYPE@"'),
    "INVALID_PARAMETER_CHAR": (("XML_FIELD",), 'Invalid char in "@XML_FIELD@" field'),
    "INVALID_PARTNER_ID": (("PID",), 'Invalid partner id "@PID@"'),
    "INVALID_SET_ROLE": ((), "Invalid set role id"),
    "INVALID_USER_ID": ((), "Invalid user id"),
    "INVALID_WIDGET_ID": (("WIDGET_ID",), "Unknown widget [@WIDGET_ID@]"),
    "LOCK_TIMED_OUT": ((), "Timed out while attempting to grab lock"),
    "MAX_ALLOWED_CHUNK_COUNT_EXCEEDED": (
        (),
        "Max allowed waiting chunks to be concatenated has exceeded allowed limit",
    ),
    "MISSING_KS": ((), "Missing KS, session not established"),
    "MISSING_MANDATORY_PARAMETER": (("PARAM_NAME",), 'Missing parameter "@PARAM_NAME@"'),
    "OBJECT_TYPE_ABSTRACT": (
        ("OBJ_TYPE",),
        'The object type "@OBJ_TYPE@" is abstract, use one of the object implementations',
    ),
    "ONLY_ONE_ROLE_PER_USER_ALLOWED": ((), "User cannot have more than one role"),
    "PROPERTY_VALIDATION_ADMIN_PROPERTY": (
        ("PROP_NAME",),
        'The property "@PROP_NAME@" is updatable with admin session only',
    ),
    "PROPERTY_VALIDATION_CANNOT_BE_NULL": (
        ("PROP_NAME",),
        'The property "@PROP_NAME@" cannot be null',
    ),
    "PROPERTY_VALIDATION_MAX_LENGTH": (
        ("PROP_NAME", "MAX_LEN"),
        'The property "@PROP_NAME@" cannot have more than @MAX_LEN@ characters',
    ),
    "PROPERTY_VALIDATION_MAX_VALUE": (
        ("PROP_NAME", "MAX_VAL"),
        'The property "@PROP_NAME@" must have a max value of @MAX_VAL@',
    ),
    "PROPERTY_VALIDATION_MIN_LENGTH": (
        ("PROP_NAME", "MIN_LEN"),
        'The property "@PROP_NAME@" must have a min length of @MIN_LEN@ characters',
    ),
    "PROPERTY_VALIDATION_MIN_VALUE": (
        ("PROP_NAME", "MIN_VAL"),
        'The property "@PROP_NAME@" must have a min value of @MIN_VAL@',
    ),
    "PROPERTY_VALIDATION_NOT_UPDATABLE": (
        ("PROP_NAME",),
        'The property "@PROP_NAME@" cannot be updated',
    ),
    "PROPERTY_VALIDATION_NUMERIC_VALUE": (
        ("PROP_NAME",),
        'The property "@PROP_NAME@" must be numeric',
    ),
    "PROPERTY_VALIDATION_WRONG_FORMAT": (
        ("PROP_NAME", "FORMAT"),
        'The property "@PROP_NAME@" must match format @FORMAT@',
    ),
    "QUERY_EXCEEDED_MAX_MATCHES_ALLOWED": (
        (),
        "Unable to generate list. max matches value was reached",
    ),
    "RESOURCE_TYPE_NOT_SUPPORTED": (("RES_TYPE",), 'Resource type "@RES_TYPE@" not supported'),
    "SEARCH_ENGINE_QUERY_FAILED": ((), "Search engine query failed"),
    "SEARCH_ENGINE_SYNTAX_ERROR": ((), "Search engine syntax error"),
    "SERVICE_DOES_NOT_EXISTS": (("SRV_NAME",), 'Service "@SRV_NAME@" does not exists'),
    "SERVICE_FORBIDDEN": (("SERVICE",), "The access to service [@SERVICE@] is forbidden"),
    "SERVICE_FORBIDDEN_CONTENT_BLOCKED": (
        (),
        "The access to this service is forbidden since the specified partner is blocked",
    ),
    "SERVICE_NOT_SPECIFIED": ((), "Service name was not specified, please specify one"),
    "START_SESSION_ERROR": (("PID",), "Error while starting session for partner [@PID@]"),
    "UNKNOWN_PARTNER_ID": (("PID",), "Unknown partner_id [@PID@]"),
    "UNKNOWN_ROLE_ID": ((), "Unknown role id"),
    "UPLOAD_ERROR": ((), "Upload failed"),
    "UPLOAD_PASSED_MAX_RESUME_TIME_ALLOWED": (
        ("MAX_RESUME_TIME",),
        "Max resume time of @MAX_RESUME_TIME@ seconds reached, cannot resume upload",
    ),
    "UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE": ((), "Failed to match expected file size"),
    "UPLOAD_TOKEN_CANNOT_RESUME": (
        (),
        "Cannot resume the upload, original file was not found",
    ),
    "UPLOAD_TOKEN_FILE_TYPE_RESTRICTED_FOR_UPLOAD": (
        (),
        "Upload token is restricted due to the file type",
    ),
    "UPLOAD_TOKEN_INVALID_STATUS_FOR_ADD_ENTRY": (
        (),
        "Upload token is in an invalid status for adding entry, maybe the a file was not "
        "uploaded or the token was used",
    ),
    "UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD": (
        (),
        "Upload token is in an invalid status for uploading a file, maybe the file was already uploaded",
    ),
    "UPLOAD_TOKEN_MISSING_FILE_SIZE": (
        (),
        "FileSize is mandatory when enabling autoFinalize",
    ),
    "UPLOAD_TOKEN_NOT_FOUND": ((), "Upload token not found"),
    "USER_BLOCKED": ((), "this user is blocked"),
    "USER_NOT_FOUND": ((), "User was not found"),
    "USER_ROLE_NOT_FOUND": ((), "User role not found"),
}

_PLACEHOLDER = re.compile(r"@([A-Za-z0-9_]+)@")


class ApiError(Exception):
    """An in-band Kaltura API error (``KalturaAPIException``).

    ``ApiError(code, **args)``: ``code`` must be in ``ERRORS``; keyword arguments fill the
    placeholders by name. ``arguments`` keeps them as an ordered ``{name: str}`` dictionary
    (the order of the catalogue), ``message`` is the rendered text. ``headers`` are extra HTTP
    response headers the envelope adds (e.g. ``X-Kaltura`` for ``SERVICE_FORBIDDEN``).
    """

    def __init__(self, code: str, **args: object) -> None:
        names, template = ERRORS.get(code, ((), code))
        self.code = code
        self.arguments: dict[str, str] = {
            name: ("N/A" if args.get(name) is None else _strip_tags(str(args[name]))) for name in names
        }
        self.message = _PLACEHOLDER.sub(lambda m: self.arguments.get(m.group(1), m.group(0)), template)
        self.headers: dict[str, str] = {}
        super().__init__(f"{code}: {self.message}")


def _strip_tags(value: str) -> str:
    """Remove HTML tags the way PHP's ``strip_tags`` does for argument values."""
    return re.sub(r"<[^>]*>", "", value)
