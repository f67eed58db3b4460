// The endpoints of the appc metadata service (ace.md "App Container Metadata Service"), as a plain
// function from request to reply: no sockets, so each rule is testable on its own. The caller has
// already checked the token and stripped it from the path.
#pragma once

#include <string>
#include <string_view>

#include "common/metadata/identity_key.h"
#include "common/metadata/metadata_server.h"

namespace podrt::metadata {

struct HttpRequest {
  std::string_view method;        ///< "GET", "POST", ...
  std::string_view path;          ///< after the token: "/acMetadata/v1/pod/uuid"
  std::string_view content_type;  ///< the Content-Type header, empty when absent
  std::string_view body;
};

struct HttpReply {
  unsigned status = 200;
  std::string content_type;  ///< empty: no Content-Type header
  std::string body;
  std::string allow;  ///< the Allow header of a 405
};

/// GET pod/{annotations,manifest,uuid}, apps/NAME/{annotations,image/manifest,image/id} (HEAD too);
/// POST pod/hmac/sign (form: content), pod/hmac/verify (form: uuid, content, signature).
/// Unknown path or app: 404; known path, other method: 405; a form that is not
/// application/x-www-form-urlencoded: 415; bad form or missing field: 400; verify: 200 or 403.
HttpReply route_metadata_request(const PodMetadata& pod, const IdentityKey& key,
                                 const HttpRequest& request);

}  // namespace podrt::metadata
