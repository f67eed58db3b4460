#include "stage1-kvm/devices/serial_8250.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace podrt::vmm {
namespace {

constexpr uint64_t kRbr = Serial8250::kData, kThr = Serial8250::kData, kDll = Serial8250::kData;
constexpr uint64_t kIer = Serial8250::kInterruptEnable, kDlm = Serial8250::kInterruptEnable;
constexpr uint64_t kIir = Serial8250::kInterruptId, kFcr = Serial8250::kInterruptId;
constexpr uint64_t kLcr = Serial8250::kLineControl, kMcr = Serial8250::kModemControl;
constexpr uint64_t kLsr = Serial8250::kLineStatus, kMsr = Serial8250::kModemStatus;
constexpr uint64_t kScr = Serial8250::kScratch;

constexpr uint8_t kIerRda = 0x01, kIerThre = 0x02;
constexpr uint8_t kIirNoInterrupt = 0x01, kIirThre = 0x02, kIirRda = 0x04;
constexpr uint8_t kLsrDr = 0x01, kLsrThre = 0x20, kLsrTemt = 0x40;
constexpr uint8_t kMcrLoop = 0x10;

class CountingInterruptLine : public InterruptLine {
 public:
  void trigger() override { ++count; }
  std::atomic<int> count{0};
};

class Serial8250Test : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    device_end_.reset(fds[0]);
    host_end_.reset(fds[1]);
    auto loop = EventLoop::create();
    ASSERT_TRUE(loop) << loop.error().message();
    loop_.emplace(std::move(loop).value());
    auto serial = Serial8250::create(device_end_.get(), *loop_, interrupt_);
    ASSERT_TRUE(serial) << serial.error().message();
    serial_ = std::move(serial).value();
  }

  uint8_t in(uint64_t reg) {
    uint8_t value = 0;
    serial_->read(reg, {&value, 1});
    return value;
  }
  void out(uint64_t reg, uint8_t value) { serial_->write(reg, {&value, 1}); }

  /// What the host end can read now, without waiting.
  std::string host_received() {
    std::string text;
    char buffer[4096];
    ssize_t count;
    while ((count = ::recv(host_end_.get(), buffer, sizeof buffer, MSG_DONTWAIT)) > 0) text.append(buffer, count);
    return text;
  }
  void host_send(const std::string& text) {
    ASSERT_EQ(::send(host_end_.get(), text.data(), text.size(), MSG_NOSIGNAL), static_cast<ssize_t>(text.size()));
  }
  void run_loop(int timeout_ms = 1000) { ASSERT_TRUE(loop_->run_once(timeout_ms)); }

  UniqueFd device_end_;
  UniqueFd host_end_;
  CountingInterruptLine interrupt_;
  std::optional<EventLoop> loop_;
  std::shared_ptr<Serial8250> serial_;  // last: destroyed before the loop and the line

  /// Linux's autoconfig() and autoconfig_16550a() (drivers/tty/serial/8250/8250_port.c) for a
  /// port at a fixed address: its register accesses in order, and the type the answers lead to.
  std::string linux_probe() {
    // The IER test: the low nibble must be writable, and reads back what was written.
    uint8_t saved_ier = in(kIer);
    out(kIer, 0);
    uint8_t cleared = in(kIer) & 0x0f;
    out(kIer, 0x0f);
    uint8_t set = in(kIer) & 0x0f;
    out(kIer, saved_ier);
    if (cleared != 0 || set != 0x0f) return "none (IER test)";

    uint8_t saved_mcr = in(kMcr);
    uint8_t saved_lcr = in(kLcr);
    // The loopback test: RTS and OUT2 come back as CTS and DCD.
    out(kMcr, kMcrLoop | 0x0a);
    uint8_t status = in(kMsr) & 0xf0;
    out(kMcr, saved_mcr);
    if (status != 0x90) return "none (loopback test)";

    // EFR (if any) to 0, then the FIFO bits of the IIR.
    out(kLcr, 0xbf);
    out(kFcr, 0);
    out(kLcr, 0);
    out(kFcr, 0x01);
    switch (in(kIir) >> 6) {
      case 0: return "8250/16450";
      case 1: return "unknown";
      case 2: return "16550";
      default: break;
    }
    std::string type = probe_16550a();
    out(kLcr, saved_lcr);
    out(kMcr, saved_mcr);
    out(kFcr, 0x07);  // serial8250_clear_fifos
    out(kFcr, 0);
    in(kRbr);
    out(kIer, 0);
    return type;
  }

  std::string probe_16550a() {
    out(kLcr, 0x80);  // EFR with DLAB: ST16C650V1
    if (in(kIir) == 0) return "ST16650";
    out(kLcr, 0xbf);  // EFR behind 0xbf: 16650V2, 16850, 16C950
    if (in(kIir) == 0) return "EFR (16650V2 and later)";
    // National Semiconductor SuperIO: MCR's LOOP bit mirrored in EXCR1 (bank 2, offset 2).
    out(kLcr, 0);
    uint8_t mcr = in(kMcr);
    out(kLcr, 0xe0);
    uint8_t excr1 = in(kIir);
    if (!((excr1 ^ mcr) & kMcrLoop)) {
      out(kLcr, 0);
      out(kMcr, mcr ^ kMcrLoop);
      out(kLcr, 0xe0);
      excr1 = in(kIir);
      out(kLcr, 0);
      out(kMcr, mcr);
      if ((excr1 ^ mcr) & kMcrLoop) return "NS16550A";
    }
    // TI16750: IIR bit 5 with the 64-byte FIFO enabled under DLAB.
    out(kLcr, 0);
    out(kFcr, 0x21);
    uint8_t without_dlab = in(kIir) >> 5;
    out(kFcr, 0x01);
    out(kLcr, 0x80);
    out(kFcr, 0x21);
    uint8_t with_dlab = in(kIir) >> 5;
    out(kFcr, 0x01);
    out(kLcr, 0);
    if (without_dlab == 6 && with_dlab == 7) return "TI16750";
    // XScale: IER bit 6 (UUE) sticks.
    uint8_t saved_ier = in(kIer);
    out(kIer, saved_ier & ~0x40);
    if (!(in(kIer) & 0x40)) {
      out(kIer, saved_ier | 0x40);
      if (in(kIer) & 0x40) return "XScale";
    }
    out(kIer, saved_ier);
    // size_fifo(): bytes looped back at 115200 baud, counted while LSR.DR stays set.
    if (fifo_size() == 64) return "U6_16550A";
    return "16550A";
  }

  int fifo_size() {
    uint8_t saved_lcr = in(kLcr);
    out(kLcr, 0);
    uint8_t saved_fcr = in(kIir);
    uint8_t saved_mcr = in(kMcr);
    out(kFcr, 0x07);
    out(kMcr, kMcrLoop);
    out(kLcr, 0x80);
    uint8_t saved_dll = in(kDll), saved_dlm = in(kDlm);
    out(kDll, 1);
    out(kDlm, 0);
    out(kLcr, 0x03);
    for (int i = 0; i < 256; ++i) out(kThr, static_cast<uint8_t>(i));
    int count = 0;
    while ((in(kLsr) & kLsrDr) && count < 256) {
      in(kRbr);
      ++count;
    }
    out(kFcr, saved_fcr);
    out(kMcr, saved_mcr);
    out(kLcr, 0x80);
    out(kDll, saved_dll);
    out(kDlm, saved_dlm);
    out(kLcr, saved_lcr);
    return count;
  }
};

TEST_F(Serial8250Test, LinuxProbeDetectsA16550A) {
  EXPECT_EQ(linux_probe(), "16550A");
  // Probing in loopback sent nothing to the host.
  EXPECT_EQ(host_received(), "");
  EXPECT_EQ(serial_->dropped_output_bytes(), 0u);
}

TEST_F(Serial8250Test, LoopbackFifoHoldsSixteenBytesAsLinuxMeasuresIt) {
  EXPECT_EQ(fifo_size(), 16);
}

TEST_F(Serial8250Test, ScratchRegisterHoldsAnyByte) {
  for (int value : {0x00, 0xa5, 0x5a, 0xff}) {
    out(kScr, static_cast<uint8_t>(value));
    EXPECT_EQ(in(kScr), value);
  }
}

TEST_F(Serial8250Test, IerKeepsOnlyItsFourBits) {
  out(kIer, 0xff);
  EXPECT_EQ(in(kIer), 0x0f);
}

TEST_F(Serial8250Test, DivisorLatchSharesTheDataAndIerOffsets) {
  out(kIer, 0x00);
  out(kLcr, 0x80);
  out(kDll, 0x01);
  out(kDlm, 0x02);
  EXPECT_EQ(in(kDll), 0x01);
  EXPECT_EQ(in(kDlm), 0x02);
  out(kLcr, 0x03);
  EXPECT_EQ(in(kIer), 0x00);  // the divisor writes did not reach IER
  EXPECT_EQ(host_received(), "");  // nor THR
  EXPECT_EQ(in(kLcr), 0x03);
}

TEST_F(Serial8250Test, TransmitterIsAlwaysEmpty) {
  EXPECT_EQ(in(kLsr) & (kLsrThre | kLsrTemt), kLsrThre | kLsrTemt);
  out(kThr, 'x');
  EXPECT_EQ(in(kLsr) & (kLsrThre | kLsrTemt), kLsrThre | kLsrTemt);
}

TEST_F(Serial8250Test, BytesWrittenToThrArriveOnTheHostSocket) {
  for (char c : std::string("Linux version 6.1\r\n")) out(kThr, static_cast<uint8_t>(c));
  EXPECT_EQ(host_received(), "Linux version 6.1\r\n");
  EXPECT_EQ(serial_->dropped_output_bytes(), 0u);
}

TEST_F(Serial8250Test, HostInputArrivesInRbrWithDataReadyAndAnInterrupt) {
  out(kFcr, 0x01);
  out(kIer, kIerRda);
  EXPECT_EQ(in(kLsr) & kLsrDr, 0);
  EXPECT_EQ(interrupt_.count, 0);
  host_send("ok");
  run_loop();
  EXPECT_EQ(interrupt_.count, 1);
  EXPECT_EQ(in(kLsr) & kLsrDr, kLsrDr);
  EXPECT_EQ(in(kIir), 0xc0 | kIirRda);
  EXPECT_EQ(in(kRbr), 'o');
  EXPECT_EQ(in(kLsr) & kLsrDr, kLsrDr);
  EXPECT_EQ(in(kRbr), 'k');
  EXPECT_EQ(in(kLsr) & kLsrDr, 0);
  EXPECT_EQ(in(kIir), 0xc0 | kIirNoInterrupt);
  // More input after the FIFO emptied raises the interrupt again.
  host_send("!");
  run_loop();
  EXPECT_EQ(interrupt_.count, 2);
  EXPECT_EQ(in(kRbr), '!');
}

TEST_F(Serial8250Test, InputRaisesNoInterruptUntilItIsEnabled) {
  host_send("a");
  run_loop();
  EXPECT_EQ(interrupt_.count, 0);
  EXPECT_EQ(in(kLsr) & kLsrDr, kLsrDr);
  EXPECT_EQ(in(kIir) & 0x0f, kIirNoInterrupt);
  out(kIer, kIerRda);  // data already waits: enabling raises the interrupt now
  EXPECT_EQ(interrupt_.count, 1);
  EXPECT_EQ(in(kIir) & 0x0f, kIirRda);
}

TEST_F(Serial8250Test, ThreInterruptOnEnablingAndAfterEachWrite) {
  out(kIer, kIerThre);
  EXPECT_EQ(interrupt_.count, 1);
  EXPECT_EQ(in(kIir) & 0x0f, kIirThre);
  EXPECT_EQ(in(kIir) & 0x0f, kIirNoInterrupt) << "reading the IIR acknowledges THRE";
  out(kThr, 'a');
  EXPECT_EQ(interrupt_.count, 2);
  EXPECT_EQ(in(kIir) & 0x0f, kIirThre);
  // Writes while THRE is still pending keep the line up: no new edge.
  out(kThr, 'b');
  out(kThr, 'c');
  EXPECT_EQ(interrupt_.count, 3);
  out(kThr, 'd');
  EXPECT_EQ(interrupt_.count, 3);
  // Disabling drops it; enabling again raises it again.
  out(kIer, 0);
  EXPECT_EQ(in(kIir) & 0x0f, kIirNoInterrupt);
  out(kIer, kIerThre);
  EXPECT_EQ(interrupt_.count, 4);
  EXPECT_EQ(host_received(), "abcd");
}

TEST_F(Serial8250Test, ThreIsReassertedAsLinuxStartupChecks) {
  // serial8250_startup(): a UART that does not re-raise THRE is flagged UART_BUG_THRE.
  out(kIer, kIerThre);
  uint8_t first = in(kIir);
  out(kIer, 0);
  out(kIer, kIerThre);
  uint8_t second = in(kIir);
  out(kIer, 0);
  EXPECT_EQ(first & kIirNoInterrupt, 0);
  EXPECT_EQ(second & kIirNoInterrupt, 0);
}

TEST_F(Serial8250Test, IirReportsReceivedDataBeforeThre) {
  host_send("x");
  run_loop();
  out(kIer, kIerRda | kIerThre);
  EXPECT_EQ(in(kIir) & 0x0f, kIirRda);
  EXPECT_EQ(in(kIir) & 0x0f, kIirRda) << "an RDA report must not acknowledge the pending THRE";
  EXPECT_EQ(in(kRbr), 'x');
  EXPECT_EQ(in(kIir) & 0x0f, kIirThre);
  EXPECT_EQ(in(kIir) & 0x0f, kIirNoInterrupt);
}

TEST_F(Serial8250Test, LoopbackModeReflectsMcrInMsrAndKeepsBytesFromTheHost) {
  EXPECT_EQ(in(kMsr) & 0xf0, 0xb0);  // a ready "modem": DCD, DSR, CTS
  out(kMcr, kMcrLoop | 0x01);        // DTR -> DSR
  EXPECT_EQ(in(kMsr) & 0xf0, 0x20);
  out(kMcr, kMcrLoop | 0x02 | 0x04);  // RTS -> CTS, OUT1 -> RI
  uint8_t msr = in(kMsr);
  EXPECT_EQ(msr & 0xf0, 0x50);
  EXPECT_NE(msr & 0x01, 0) << "delta CTS";
  EXPECT_EQ(in(kMsr) & 0x0f, 0) << "the change bits clear on read";
  out(kMcr, kMcrLoop | 0x02);  // RI falls: trailing-edge RI
  EXPECT_EQ(in(kMsr) & 0x04, 0x04);

  out(kThr, 'z');
  EXPECT_EQ(host_received(), "");
  EXPECT_EQ(in(kLsr) & kLsrDr, kLsrDr);
  EXPECT_EQ(in(kRbr), 'z');
  out(kMcr, 0);
  EXPECT_EQ(in(kMsr) & 0xf0, 0xb0);
}

TEST_F(Serial8250Test, FcrClearsTheReceiveFifo) {
  host_send("abc");
  run_loop();
  EXPECT_EQ(in(kLsr) & kLsrDr, kLsrDr);
  out(kFcr, 0x01 | 0x02);
  EXPECT_EQ(in(kLsr) & kLsrDr, 0);
}

TEST_F(Serial8250Test, ReadingPausesWhileTheReceiveFifoIsFull) {
  const size_t extra = 100;
  std::string input;
  for (size_t i = 0; i < Serial8250::kReceiveCapacity + extra; ++i) input.push_back(static_cast<char>('a' + i % 26));
  host_send(input);
  run_loop();
  run_loop(0);
  // The rest waits in the socket, not in the device.
  char peek[512];
  EXPECT_EQ(::recv(device_end_.get(), peek, sizeof peek, MSG_PEEK | MSG_DONTWAIT), static_cast<ssize_t>(extra));
  std::string received;
  while (in(kLsr) & kLsrDr) received.push_back(static_cast<char>(in(kRbr)));
  EXPECT_EQ(received.size(), Serial8250::kReceiveCapacity);
  run_loop();
  while (in(kLsr) & kLsrDr) received.push_back(static_cast<char>(in(kRbr)));
  EXPECT_EQ(received, input);
}

TEST_F(Serial8250Test, AFullOutputBufferWithANonReadingPeerNeverBlocks) {
  int small = 4096;
  ASSERT_EQ(::setsockopt(device_end_.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  // Far more than the socket and the device's buffer hold together; the host reads nothing.
  const size_t total = Serial8250::kTransmitCapacity + (64u << 10);
  auto pattern = [](size_t i) { return static_cast<uint8_t>(i * 7 % 251); };
  for (size_t i = 0; i < total; ++i) out(kThr, pattern(i));
  uint64_t dropped = serial_->dropped_output_bytes();
  ASSERT_GT(dropped, 0u);
  ASSERT_LT(dropped, total - Serial8250::kTransmitCapacity);

  // Once the host reads, the event loop sends the queue: the bytes that were kept, in order.
  std::string received;
  for (int round = 0; round < 1000 && received.size() < total - dropped; ++round) {
    received += host_received();
    run_loop(10);
  }
  received += host_received();
  ASSERT_EQ(received.size(), total - dropped);
  for (size_t i = 0; i < received.size(); ++i)
    ASSERT_EQ(static_cast<uint8_t>(received[i]), pattern(i)) << "at byte " << i;
}

TEST_F(Serial8250Test, OutputToAGoneReaderIsDroppedAndCounted) {
  host_end_.reset();
  out(kThr, 'a');  // MSG_NOSIGNAL: no SIGPIPE kills the test
  out(kThr, 'b');
  out(kThr, 'c');
  EXPECT_EQ(serial_->dropped_output_bytes(), 3u);
  run_loop(0);  // the hang-up is handled without trouble
  EXPECT_EQ(in(kLsr) & kLsrDr, 0);
}

TEST_F(Serial8250Test, WideAccessesAreSplitIntoByteRegisters) {
  const uint8_t values[2] = {0x03, 0x00};  // LCR = 3, MCR = 0
  serial_->write(kLcr, values);
  EXPECT_EQ(in(kLcr), 0x03);
  uint8_t read[2] = {};
  out(kScr, 0x42);
  serial_->read(kMsr, read);
  EXPECT_EQ(read[0] & 0xf0, 0xb0);
  EXPECT_EQ(read[1], 0x42);
  // Past the eight registers: all-ones, writes ignored.
  serial_->read(kScr, read);
  EXPECT_EQ(read[1], 0xff);
}

TEST_F(Serial8250Test, CreateRefusesABadFd) {
  EXPECT_FALSE(Serial8250::create(-1, *loop_, interrupt_));
}

TEST_F(Serial8250Test, APipeIsWrittenToo) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  auto serial = Serial8250::create(write_end.get(), *loop_, interrupt_);
  ASSERT_TRUE(serial) << serial.error().message();
  const uint8_t byte = 'p';
  (*serial)->write(Serial8250::kData, {&byte, 1});
  char received = 0;
  EXPECT_EQ(::read(read_end.get(), &received, 1), 1);
  EXPECT_EQ(received, 'p');
}

TEST_F(Serial8250Test, AReadOnlyPipeIsReadAndNeverWritten) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  auto serial = Serial8250::create(read_end.get(), *loop_, interrupt_);
  ASSERT_TRUE(serial) << serial.error().message();
  ASSERT_EQ(::write(write_end.get(), "i", 1), 1);
  run_loop();
  uint8_t byte = 0;
  (*serial)->read(Serial8250::kData, {&byte, 1});
  EXPECT_EQ(byte, 'i');
  // Output has nowhere to go (and must not loop back into the pipe it reads).
  byte = 'o';
  (*serial)->write(Serial8250::kData, {&byte, 1});
  EXPECT_EQ((*serial)->dropped_output_bytes(), 1u);
  (*serial)->read(Serial8250::kLineStatus, {&byte, 1});
  EXPECT_EQ(byte & kLsrDr, 0);
}

}  // namespace
}  // namespace podrt::vmm
