// podrt-probe: a static multi-call helper that tests run inside pods and VMs to look at the
// environment an app gets (after crun's tests/init.c and rkt's tests/inspect). Plain C++ and libc
// only, so it runs in any rootfs. Prints `key=value` lines or plain text; exits 0 on success and
// non-zero with a message on stderr on failure.
#include <dirent.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace {

using Args = std::vector<std::string>;

int fail(const std::string& message) {
  std::fprintf(stderr, "podrt-probe: %s\n", message.c_str());
  return 1;
}

int fail_errno(const std::string& what) {
  return fail(what + ": " + std::strerror(errno));
}

std::string errno_name(int error) {
  const char* name = ::strerrorname_np(error);
  return name ? name : "E" + std::to_string(error);
}

bool parse_number(const std::string& text, long& value) {
  char* end = nullptr;
  errno = 0;
  value = std::strtol(text.c_str(), &end, 10);
  return errno == 0 && end != text.c_str() && *end == '\0';
}

bool read_file(const std::string& path, std::string& content) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buffer[8192];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    content.append(buffer, static_cast<size_t>(n));
  }
  int saved = errno;
  ::close(fd);
  errno = saved;
  return n == 0;
}

// Prints the lines of /proc/self/status whose key is in `keys`, as key=value.
int print_status(const std::vector<std::string_view>& keys) {
  std::string status;
  if (!read_file("/proc/self/status", status)) return fail_errno("read /proc/self/status");
  int found = 0;
  size_t position = 0;
  while (position < status.size()) {
    size_t end = status.find('\n', position);
    if (end == std::string::npos) end = status.size();
    std::string_view line(status.data() + position, end - position);
    position = end + 1;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon);
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) continue;
    std::string_view value = line.substr(colon + 1);
    value.remove_prefix(std::min(value.find_first_not_of(" \t"), value.size()));
    std::printf("%.*s=%.*s\n", static_cast<int>(key.size()), key.data(),
                static_cast<int>(value.size()), value.data());
    ++found;
  }
  return found > 0 ? 0 : fail("no such line in /proc/self/status");
}

int do_cat(const std::string& path) {
  std::string content;
  if (!read_file(path, content)) return fail_errno("cat " + path);
  std::fwrite(content.data(), 1, content.size(), stdout);
  return 0;
}

int do_write(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail_errno("write " + path);
  ssize_t written = ::write(fd, text.data(), text.size());
  int saved = errno;
  ::close(fd);
  errno = saved;
  if (written != static_cast<ssize_t>(text.size())) return fail_errno("write " + path);
  return 0;
}

int do_ls(const std::string& path) {
  DIR* directory = ::opendir(path.c_str());
  if (!directory) return fail_errno("ls " + path);
  std::vector<std::string> names;
  while (dirent* entry = ::readdir(directory)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(directory);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) std::printf("%s\n", name.c_str());
  return 0;
}

int do_id() {
  std::printf("uid=%u gid=%u euid=%u egid=%u groups=", ::getuid(), ::getgid(), ::geteuid(),
              ::getegid());
  int count = ::getgroups(0, nullptr);
  std::vector<gid_t> groups(static_cast<size_t>(std::max(count, 0)));
  count = ::getgroups(static_cast<int>(groups.size()), groups.data());
  for (int i = 0; i < count; ++i) {
    std::printf("%s%u", i ? "," : "", groups[static_cast<size_t>(i)]);
  }
  std::printf("\n");
  return 0;
}

int do_memhog(const std::string& mebibytes_text) {
  long mebibytes = 0;
  if (!parse_number(mebibytes_text, mebibytes) || mebibytes < 0) return fail("bad MiB count");
  size_t size = static_cast<size_t>(mebibytes) << 20;
  if (size == 0) return std::printf("allocated_mib=0\n"), 0;
  void* memory = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return fail_errno("mmap");
  auto* bytes = static_cast<volatile unsigned char*>(memory);
  long page = ::sysconf(_SC_PAGESIZE);
  for (size_t offset = 0; offset < size; offset += static_cast<size_t>(page)) bytes[offset] = 1;
  std::printf("allocated_mib=%ld\n", mebibytes);
  return 0;
}

int do_sleep(const std::string& seconds_text) {
  char* end = nullptr;
  double seconds = std::strtod(seconds_text.c_str(), &end);
  if (end == seconds_text.c_str() || *end != '\0' || seconds < 0) return fail("bad seconds");
  auto whole = static_cast<time_t>(seconds);
  timespec remaining{whole, static_cast<long>((seconds - static_cast<double>(whole)) * 1e9)};
  while (::nanosleep(&remaining, &remaining) != 0 && errno == EINTR) {
  }
  return 0;
}

// Forks a child that outlives this process: pod init must reap or kill it.
int do_fork_orphan(const Args& args) {
  long seconds = 300;
  if (args.size() > 2 && !parse_number(args[2], seconds)) return fail("bad seconds");
  std::fflush(stdout);
  pid_t child = ::fork();
  if (child < 0) return fail_errno("fork");
  if (child == 0) {
    // Let go of the caller's pipes so that whoever reads our output sees EOF when we exit.
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int fd = 0; fd < 3 && null >= 0; ++fd) ::dup2(null, fd);
    ::sleep(static_cast<unsigned>(seconds));
    ::_exit(0);
  }
  std::printf("orphan=%d\n", child);
  return 0;
}

// Leaves N exited, unreaped children behind (and optionally waits): init must reap them.
int do_zombies(const Args& args) {
  long count = 0;
  long seconds = 0;
  if (args.size() < 3 || !parse_number(args[2], count) || count < 0) {
    return fail("usage: zombies N [SECONDS]");
  }
  if (args.size() > 3 && !parse_number(args[3], seconds)) return fail("bad seconds");
  std::fflush(stdout);
  for (long i = 0; i < count; ++i) {
    pid_t child = ::fork();
    if (child < 0) return fail_errno("fork");
    if (child == 0) ::_exit(0);
    siginfo_t info{};
    // WNOWAIT: wait until it has exited but leave it a zombie.
    ::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT);
  }
  std::printf("zombies=%ld\n", count);
  std::fflush(stdout);
  if (seconds > 0) ::sleep(static_cast<unsigned>(seconds));
  return 0;
}

int unshare_flag(const std::string& name) {
  if (name == "user") return CLONE_NEWUSER;
  if (name == "net") return CLONE_NEWNET;
  if (name == "pid") return CLONE_NEWPID;
  if (name == "uts") return CLONE_NEWUTS;
  if (name == "ipc") return CLONE_NEWIPC;
  if (name == "cgroup") return CLONE_NEWCGROUP;
  return CLONE_NEWNS;
}

// Tries one privileged system call in a way that has no lasting effect; reports errno's name.
int do_syscall(const Args& args) {
  if (args.size() < 3) return fail("usage: syscall NAME [ARG]");
  const std::string& name = args[2];
  std::string argument = args.size() > 3 ? args[3] : "";
  long result = -1;
  errno = 0;
  if (name == "unshare") {
    result = ::unshare(unshare_flag(argument));
  } else if (name == "mount") {
    char directory[] = "/tmp/podrt-probe-XXXXXX";
    if (!::mkdtemp(directory)) return fail_errno("mkdtemp");
    result = ::mount("probe", directory, "tmpfs", 0, nullptr);
    int saved = errno;
    if (result == 0) ::umount2(directory, MNT_DETACH);
    ::rmdir(directory);
    errno = saved;
  } else if (name == "keyctl") {
    result = ::syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
  } else if (name == "ptrace") {
    result = ::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
  } else if (name == "chroot") {
    result = ::chroot("/");
  } else if (name == "sethostname") {
    char hostname[256] = {};
    ::gethostname(hostname, sizeof hostname - 1);
    result = ::sethostname(hostname, std::strlen(hostname));
  } else if (name == "init_module") {
    result = ::syscall(SYS_init_module, nullptr, 0UL, "");
  } else if (name == "bpf") {
    result = ::syscall(SYS_bpf, 5 /* BPF_PROG_LOAD */, nullptr, 0U);
  } else if (name == "perf_event_open") {
    result = ::syscall(SYS_perf_event_open, nullptr, 0, -1, -1, 0UL);
  } else if (name == "swapon") {
    result = ::syscall(SYS_swapon, "/nonexistent-podrt-probe", 0);
  } else if (name == "userfaultfd") {
    result = ::syscall(SYS_userfaultfd, O_CLOEXEC);
    if (result >= 0) ::close(static_cast<int>(result));
  } else if (name == "mknod") {
    std::string path = "/tmp/podrt-probe-null-" + std::to_string(::getpid());
    result = ::mknod(path.c_str(), S_IFCHR | 0600, makedev(1, 3));
    int saved = errno;
    if (result == 0) ::unlink(path.c_str());
    errno = saved;
  } else if (name == "ioperm") {
    result = ::syscall(SYS_ioperm, 0x80UL, 1UL, 0);
  } else if (name == "personality") {
    result = ::personality(0xffffffff);
  } else {
    return fail("unknown syscall " + name +
                " (unshare mount keyctl ptrace chroot sethostname init_module bpf "
                "perf_event_open swapon userfaultfd mknod ioperm personality)");
  }
  if (result < 0) {
    int error = errno;
    std::printf("syscall=%s result=%s errno=%d\n", name.c_str(), errno_name(error).c_str(), error);
  } else {
    std::printf("syscall=%s result=ok\n", name.c_str());
  }
  return 0;
}

const char* file_type(mode_t mode) {
  if (S_ISREG(mode)) return "file";
  if (S_ISDIR(mode)) return "dir";
  if (S_ISLNK(mode)) return "symlink";
  if (S_ISCHR(mode)) return "char";
  if (S_ISBLK(mode)) return "block";
  if (S_ISFIFO(mode)) return "fifo";
  if (S_ISSOCK(mode)) return "socket";
  return "unknown";
}

int do_stat(const std::string& path) {
  struct stat status {};
  if (::lstat(path.c_str(), &status) != 0) return fail_errno("stat " + path);
  std::printf("type=%s mode=%04o uid=%u gid=%u size=%lld", file_type(status.st_mode),
              status.st_mode & 07777, status.st_uid, status.st_gid,
              static_cast<long long>(status.st_size));
  if (S_ISCHR(status.st_mode) || S_ISBLK(status.st_mode)) {
    std::printf(" rdev=%u:%u", major(status.st_rdev), minor(status.st_rdev));
  }
  if (S_ISLNK(status.st_mode)) {
    char target[4096];
    ssize_t n = ::readlink(path.c_str(), target, sizeof target - 1);
    if (n >= 0) std::printf(" target=%.*s", static_cast<int>(n), target);
  }
  std::printf("\n");
  return 0;
}

int usage() {
  std::fprintf(stderr,
               "usage: podrt-probe COMMAND [ARGS]\n"
               "  true | false | exit N | echo ARGS... | cat FILE | write FILE TEXT | ls DIR\n"
               "  env | hostname | id | pid | cwd | caps | nnp | seccomp | cgroup\n"
               "  memhog MiB | sleep SECONDS | fork-orphan [SECONDS] | zombies N [SECONDS]\n"
               "  syscall NAME [ARG] | stat PATH\n");
  return 2;
}

int run(const Args& args) {
  if (args.size() < 2) return usage();
  const std::string& command = args[1];
  auto need = [&args](size_t count) { return args.size() >= count + 2; };
  if (command == "true") return 0;
  if (command == "false") return 1;
  if (command == "exit") {
    long code = 0;
    if (!need(1) || !parse_number(args[2], code)) return usage();
    return static_cast<int>(code & 0xff);
  }
  if (command == "echo") {
    for (size_t i = 2; i < args.size(); ++i) {
      std::printf("%s%s", i > 2 ? " " : "", args[i].c_str());
    }
    std::printf("\n");
    return 0;
  }
  if (command == "cat") return need(1) ? do_cat(args[2]) : usage();
  if (command == "write") return need(2) ? do_write(args[2], args[3]) : usage();
  if (command == "ls") return need(1) ? do_ls(args[2]) : usage();
  if (command == "env") {
    for (char** variable = environ; *variable; ++variable) std::printf("%s\n", *variable);
    return 0;
  }
  if (command == "hostname") {
    char hostname[256] = {};
    if (::gethostname(hostname, sizeof hostname - 1) != 0) return fail_errno("gethostname");
    std::printf("%s\n", hostname);
    return 0;
  }
  if (command == "id") return do_id();
  if (command == "pid") return std::printf("%d\n", ::getpid()), 0;
  if (command == "cwd") {
    char cwd[4096];
    if (!::getcwd(cwd, sizeof cwd)) return fail_errno("getcwd");
    std::printf("%s\n", cwd);
    return 0;
  }
  if (command == "caps") return print_status({"CapPrm", "CapEff", "CapBnd"});
  if (command == "nnp") return print_status({"NoNewPrivs"});
  if (command == "seccomp") return print_status({"Seccomp"});
  if (command == "cgroup") return do_cat("/proc/self/cgroup");
  if (command == "memhog") return need(1) ? do_memhog(args[2]) : usage();
  if (command == "sleep") return need(1) ? do_sleep(args[2]) : usage();
  if (command == "fork-orphan") return do_fork_orphan(args);
  if (command == "zombies") return do_zombies(args);
  if (command == "syscall") return do_syscall(args);
  if (command == "stat") return need(1) ? do_stat(args[2]) : usage();
  fail("unknown command " + command);
  return usage();
}

}  // namespace

int main(int argc, char** argv) {
  Args args(argv, argv + argc);
  // Multi-call: a symlink named after a command (say /bin/hostname) runs that command.
  std::string base = args.empty() ? "" : args[0].substr(args[0].rfind('/') + 1);
  constexpr std::string_view kCommands[] = {
      "true", "false", "exit", "echo", "cat", "write", "ls", "env", "hostname", "id", "pid",
      "cwd", "caps", "nnp", "seccomp", "cgroup", "memhog", "sleep", "fork-orphan", "zombies",
      "syscall", "stat"};
  if (std::find(std::begin(kCommands), std::end(kCommands), base) != std::end(kCommands)) {
    args.insert(args.begin() + 1, base);
  }
  int code = run(args);
  std::fflush(stdout);
  return code;
}
