// The names in a directory, for tests that check what a failed import left behind.
#pragma once

#include <dirent.h>

#include <set>
#include <string>

namespace podrt::testing {

/// The entry names of `dir` without "." and ".."; empty when it cannot be opened.
inline std::set<std::string> directory_entries(const std::string& dir) {
  std::set<std::string> names;
  if (DIR* handle = ::opendir(dir.c_str())) {
    while (struct dirent* entry = ::readdir(handle)) {
      std::string name = entry->d_name;
      if (name != "." && name != "..") names.insert(name);
    }
    ::closedir(handle);
  }
  return names;
}

}  // namespace podrt::testing
