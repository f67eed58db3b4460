// Registry token auth (distribution's "token authentication specification"): a 401 carries a
// `WWW-Authenticate: Bearer realm=...,service=...,scope=...` challenge; the token server at
// realm hands out a token for anonymous pulls, sent back as `Authorization: Bearer <token>`.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "stage0/oci/http_client.h"

namespace podrt::oci {

struct BearerChallenge {
  std::string realm;    ///< the token server's URL
  std::string service;  ///< "" when the challenge names none
  std::string scope;    ///< "" when the challenge names none
};

/// Parses a WWW-Authenticate value (the scheme compared case-insensitively, quoted values may
/// hold commas and backslash escapes). A Basic challenge, or any other scheme, is refused with
/// a one-line error: podrt pulls anonymously with bearer tokens only.
Result<BearerChallenge> parse_bearer_challenge(std::string_view www_authenticate);

/// GETs realm?service=..&scope=.. (scope "repository:<repository>:pull" when the challenge has
/// none) and returns the JSON answer's `token` (or `access_token`).
Result<std::string> fetch_bearer_token(HttpClient& client, const BearerChallenge& challenge,
                                       const std::string& repository);

}  // namespace podrt::oci
