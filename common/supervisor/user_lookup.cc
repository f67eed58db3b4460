#include "common/supervisor/user_lookup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

#include "common/sys/file.h"

namespace podrt::supervisor {
namespace {

// Larger databases are not plausible in an image and are not read into memory.
constexpr off_t kMaxDatabaseSize = 4 << 20;

// A 32-bit id in decimal; (uint32_t)-1 is "no change" for setuid and so never an id.
std::optional<uint32_t> parse_id(std::string_view text) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value >= 0xffffffffULL) return std::nullopt;
  return static_cast<uint32_t>(value);
}

// Looks `name` up in passwd/group-format text: the id is the third ':'-separated field.
std::optional<uint32_t> find_id(std::string_view name, std::string_view text) {
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    size_t first = line.find(':');
    if (first == std::string_view::npos || line.substr(0, first) != name) continue;
    size_t second = line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    size_t third = line.find(':', second + 1);
    if (third == std::string_view::npos) continue;
    if (auto id = parse_id(line.substr(second + 1, third - second - 1))) return id;
  }
  return std::nullopt;
}

bool valid_name(std::string_view name) {
  // ':' or a newline would let a name match across fields; NIS "+"/"-" entries are not users.
  return !name.empty() && name[0] != '+' && name[0] != '-' &&
         name.find_first_of(":\n") == std::string_view::npos;
}

// Reads a regular file (never a FIFO or device a hostile image put there) of bounded size.
Result<std::string> read_database(const std::string& path) {
  UniqueFd fd = PODRT_TRY(sys::open_file(path, O_RDONLY | O_NOCTTY | O_NONBLOCK));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Error::from_errno("stat " + path);
  if (!S_ISREG(st.st_mode)) return Error::invalid(path + " is not a regular file");
  if (st.st_size > kMaxDatabaseSize) return Error::invalid(path + " is too large");
  std::string content(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::read(fd.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::from_errno("read " + path);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  content.resize(done);
  return content;
}

}  // namespace

Result<uid_t> find_uid(std::string_view user, std::string_view passwd_text) {
  if (auto id = parse_id(user)) return *id;
  std::optional<uint32_t> id = valid_name(user) ? find_id(user, passwd_text) : std::nullopt;
  if (!id) return Error::invalid("user \"" + std::string(user) + "\" not found in /etc/passwd");
  return *id;
}

Result<gid_t> find_gid(std::string_view group, std::string_view group_text) {
  if (auto id = parse_id(group)) return *id;
  std::optional<uint32_t> id = valid_name(group) ? find_id(group, group_text) : std::nullopt;
  if (!id) return Error::invalid("group \"" + std::string(group) + "\" not found in /etc/group");
  return *id;
}

Result<uid_t> resolve_uid(const std::string& user) {
  if (auto id = parse_id(user)) return *id;
  std::string passwd = PODRT_TRY_CONTEXT(read_database("/etc/passwd"), "look up user " + user);
  return find_uid(user, passwd);
}

Result<gid_t> resolve_gid(const std::string& group) {
  if (auto id = parse_id(group)) return *id;
  std::string groups = PODRT_TRY_CONTEXT(read_database("/etc/group"), "look up group " + group);
  return find_gid(group, groups);
}

}  // namespace podrt::supervisor
