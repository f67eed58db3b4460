#include "stage1-kvm/vmm/machine.h"

#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>

#include <cstdio>

#include "stage1-kvm/devices/boot_timer.h"
#include "stage1-kvm/devices/i8042.h"
#include "stage1-kvm/devices/serial_8250.h"
#include "stage1-kvm/memory/hex.h"
#include "stage1-kvm/virtio/block_device.h"
#include "stage1-kvm/virtio/console_device.h"
#include "stage1-kvm/virtio/net_device.h"
#include "stage1-kvm/virtio/virtio_mmio_transport.h"
#include "stage1-kvm/vmm/mapped_file.h"
#include "stage1-kvm/vmm/vcpu_loop.h"
#include "stage1-kvm/x86/boot_cpu.h"
#include "stage1-kvm/x86/boot_params.h"
#include "stage1-kvm/x86/kernel_loader.h"
#include "stage1-kvm/x86/layout.h"
#include "stage1-kvm/x86/mptable.h"

namespace podrt::vmm {
namespace {

/// Interrupts a vCPU thread's KVM_RUN (with immediate_exit set first, so none is missed).
constexpr int kVcpuKickSignal = SIGUSR1;

double milliseconds_since(Machine::Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Machine::Clock::now() - start).count();
}

}  // namespace

Machine::Machine(KvmSystem kvm, KvmVm vm, GuestMemory memory, EventLoop loop, StopSignal stop)
    : kvm_(std::move(kvm)),
      vm_(std::move(vm)),
      memory_(std::move(memory)),
      loop_(std::move(loop)),
      stop_(std::move(stop)) {}

Machine::~Machine() {
  stop_vcpus();
}

Result<std::unique_ptr<Machine>> Machine::build(const VmmOptions& options, Clock::time_point started) {
  PODRT_TRY(validate_vmm_options(options));

  KvmSystem kvm = PODRT_TRY(KvmSystem::open());
  KvmVm vm = PODRT_TRY(kvm.create_vm());

  // RAM: one slot from guest-physical 0 (the legacy hole is only e820's business). Before the
  // irqchip, as Firecracker orders them: after it, the memory-slot ioctl alone took 4-7 ms on
  // this project's hosts; in this order the slot and the irqchip take about 3 ms together.
  GuestMemory memory = PODRT_TRY(GuestMemory::allocate(options.memory_mib << 20));
  PODRT_TRY(vm.set_user_memory(0, 0, memory));

  // The VM's platform: the in-kernel PIC, IOAPIC, LAPICs and PIT, as Linux expects of a PC.
  PODRT_TRY(vm.set_tss_address(layout::kTssAddress));
  PODRT_TRY(vm.set_identity_map_address(layout::kIdentityMapAddress));
  PODRT_TRY(vm.create_irqchip());
  PODRT_TRY(vm.create_pit());

  EventLoop loop = PODRT_TRY(EventLoop::create());
  StopSignal stop = PODRT_TRY(StopSignal::create());
  auto machine = std::unique_ptr<Machine>(
      new Machine(std::move(kvm), std::move(vm), std::move(memory), std::move(loop), std::move(stop)));
  Machine& m = *machine;
  m.options_ = &options;
  m.started_ = started;

  // The kernel and initrd: their whole pages mapped into guest memory copy-on-write, the rest
  // copied; the host's own view of them is unmapped after.
  LoadedKernel kernel;
  std::optional<InitrdPlacement> initrd;
  {
    MappedFile image = PODRT_TRY_CONTEXT(MappedFile::open(options.kernel, m.memory_.size()), "kernel");
    kernel = PODRT_TRY_CONTEXT(load_kernel(m.memory_, image.file_bytes()), "load kernel " + options.kernel);
  }
  if (!options.initrd.empty()) {
    MappedFile image = PODRT_TRY_CONTEXT(MappedFile::open(options.initrd, m.memory_.size()), "initrd");
    initrd = PODRT_TRY_CONTEXT(load_initrd(m.memory_, image.file_bytes(), kernel.end, initrd_address_limit(kernel)),
                               "load initrd " + options.initrd);
  }

  // Port I/O devices.
  auto serial_line = PODRT_TRY(EventFdInterruptLine::create());
  PODRT_TRY(m.vm_.register_irqfd(serial_line->fd(), layout::kSerialIrq));
  auto serial = PODRT_TRY(Serial8250::create(options.console_fd >= 0 ? options.console_fd : STDERR_FILENO,
                                             m.loop_, *serial_line));
  PODRT_TRY(m.io_bus_.insert(layout::kSerialPort, Serial8250::kRegisterCount, serial));
  auto i8042 = std::make_shared<I8042>([&stop = m.stop_] { stop.guest_ended(); });
  PODRT_TRY(m.io_bus_.insert(layout::kI8042DataPort, I8042::kPortCount, i8042));
  bool report = options.report_times;
  auto boot_timer = std::make_shared<BootTimer>(started, [report](std::chrono::nanoseconds since_start) {
    if (report)
      std::fprintf(stderr, "podrt-vmm: guest-init reached after %.1f ms\n",
                   std::chrono::duration<double, std::milli>(since_start).count());
  });
  PODRT_TRY(m.io_bus_.insert(layout::kBootTimerPort, 1, boot_timer));
  m.interrupt_lines_.push_back(std::move(serial_line));
  m.devices_.insert(m.devices_.end(), {serial, i8042, boot_timer});

  // virtio-mmio devices, in the order the guest should probe them.
  for (const std::string& disk : options.disks) {
    std::shared_ptr<VirtioDevice> block = PODRT_TRY_CONTEXT(BlockDevice::open(disk), "disk " + disk);
    PODRT_TRY(m.add_virtio_device(std::move(block)));
  }
  if (options.control_fd >= 0) {
    std::shared_ptr<VirtioDevice> console = PODRT_TRY(ConsoleDevice::create(options.control_fd, m.loop_));
    PODRT_TRY(m.add_virtio_device(std::move(console)));
  }
  for (const NetOption& net : options.nets) {
    std::shared_ptr<VirtioDevice> nic = PODRT_TRY(NetDevice::create(net.tap_fd, net.mac, m.loop_));
    PODRT_TRY(m.add_virtio_device(std::move(nic)));
  }

  // What the kernel finds at boot: command line, zero page, MP table, GDT and page tables.
  std::string command_line = options.command_line + m.virtio_command_line_;
  PODRT_TRY(write_command_line(m.memory_, command_line));
  BootParamsInput boot_params;
  boot_params.memory_size = m.memory_.size();
  boot_params.command_line_size = command_line.size();
  boot_params.setup_header = kernel.setup_header;
  boot_params.initrd = initrd;
  PODRT_TRY(write_boot_params(m.memory_, boot_params));
  PODRT_TRY(write_mptable(m.memory_, options.vcpus));
  PODRT_TRY(write_boot_tables(m.memory_));

  // vCPUs: the boot CPU starts at the kernel's 64-bit entry, the others wait for INIT/SIPI.
  for (uint32_t index = 0; index < options.vcpus; ++index) {
    KvmVcpu vcpu = PODRT_TRY(m.vm_.create_vcpu(index));
    std::optional<BootEntry> entry;
    if (index == 0) entry = BootEntry{kernel.entry, layout::kZeroPageAddress};
    PODRT_TRY(configure_vcpu(vcpu, m.kvm_, index, options.vcpus, entry));
    m.vcpus_.push_back(std::move(vcpu));
  }

  PODRT_TRY(m.loop_.add(m.stop_.fd(), EPOLLIN, [&loop = m.loop_](uint32_t) { loop.stop(); }));
  return machine;
}

Result<void> Machine::add_virtio_device(std::shared_ptr<VirtioDevice> device) {
  if (next_virtio_slot_ >= layout::kMaxVirtioDevices)
    return Error::invalid("more than " + std::to_string(layout::kMaxVirtioDevices) + " virtio devices");
  uint64_t base = layout::kVirtioMmioBase + next_virtio_slot_ * layout::kVirtioMmioSize;
  uint32_t irq = layout::kVirtioFirstIrq + next_virtio_slot_;
  ++next_virtio_slot_;

  auto line = PODRT_TRY(EventFdInterruptLine::create());
  PODRT_TRY(vm_.register_irqfd(line->fd(), irq));
  uint16_t queues = device->queue_count();
  auto transport = std::make_shared<VirtioMmioTransport>(std::move(device), memory_, *line);
  PODRT_TRY(mmio_bus_.insert(base, layout::kVirtioMmioSize, transport));

  // Queue notifications through ioeventfds: a guest's kick costs no exit to this process's vCPU
  // thread; the event loop runs the device.
  for (uint16_t queue = 0; queue < queues; ++queue) {
    UniqueFd notifier(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!notifier) return Error::from_errno("eventfd for a queue notification");
    PODRT_TRY(vm_.register_ioeventfd(notifier.get(), base + VirtioMmioTransport::kQueueNotifyOffset, 4,
                                     queue, false));
    int fd = notifier.get();
    PODRT_TRY(loop_.add(fd, EPOLLIN, [fd, queue, transport](uint32_t) {
      uint64_t count;
      if (::read(fd, &count, sizeof count) == sizeof count) transport->queue_notified(queue);
    }));
    queue_notifiers_.push_back(std::move(notifier));
  }
  interrupt_lines_.push_back(std::move(line));
  devices_.push_back(transport);
  virtio_transports_.push_back(transport);
  virtio_command_line_ += " virtio_mmio.device=4K@" + hex(base) + ":" + std::to_string(irq);
  return ok();
}

Result<void> Machine::run() {
  PODRT_TRY(KvmVcpu::install_kick_signal_handler(kVcpuKickSignal));
  // SIGTERM and SIGINT end the VM through the event loop; the vCPU threads inherit the mask.
  sigset_t stopping;
  sigemptyset(&stopping);
  sigaddset(&stopping, SIGTERM);
  sigaddset(&stopping, SIGINT);
  ::pthread_sigmask(SIG_BLOCK, &stopping, nullptr);
  UniqueFd signals(::signalfd(-1, &stopping, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signals) return Error::from_errno("signalfd");
  PODRT_TRY(loop_.add(signals.get(), EPOLLIN, [this, fd = signals.get()](uint32_t) {
    signalfd_siginfo info{};
    if (::read(fd, &info, sizeof info) == sizeof info)
      stop_.fail(Error::invalid("stopped by signal " + std::to_string(info.ssi_signo)));
  }));

  VcpuBuses buses{&io_bus_, &mmio_bus_};
  if (options_->report_times)
    std::fprintf(stderr, "podrt-vmm: setup took %.2f ms\n", milliseconds_since(started_));
  for (uint32_t index = 0; index < vcpus_.size(); ++index)
    vcpu_threads_.emplace_back([this, index, buses] { run_vcpu(vcpus_[index], index, buses, stop_); });

  Result<void> loop_result = loop_.run();
  if (!loop_result) stop_.fail(loop_result.error());
  stop_vcpus();
  loop_.remove(signals.get());
  if (stop_.reason()) deliver_last_guest_output();
  return stop_.reason();
}

void Machine::deliver_last_guest_output() {
  // guest-init sends the pod's results and reboots at once; its kick may still wait in an
  // ioeventfd and the bytes in a virtqueue or a full socket. The vCPUs are stopped: process
  // every queue once more, then run the loop while a device still has output for the host.
  constexpr auto kDeadline = std::chrono::seconds(2);
  loop_.remove(stop_.fd());
  for (const auto& transport : virtio_transports_) transport->notify_all_queues();
  auto pending = [this] {
    for (const auto& transport : virtio_transports_)
      if (transport->device().output_pending()) return true;
    return false;
  };
  auto give_up = Clock::now() + kDeadline;
  while (pending() && Clock::now() < give_up)
    if (!loop_.run_once(10)) break;
}

void Machine::stop_vcpus() {
  for (KvmVcpu& vcpu : vcpus_) vcpu.set_immediate_exit(true);
  for (std::thread& thread : vcpu_threads_) ::pthread_kill(thread.native_handle(), kVcpuKickSignal);
  for (std::thread& thread : vcpu_threads_)
    if (thread.joinable()) thread.join();
  vcpu_threads_.clear();
}

}  // namespace podrt::vmm
