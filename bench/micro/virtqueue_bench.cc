// Micro-benchmarks of the virtio data path's host side: what each guest request costs the VMM
// before any real I/O. The guest side is tests/vmm/support's FakeVirtqueueDriver.
//   bin/podrt_vmm_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "stage1-kvm/memory/guest_memory.h"
#include "stage1-kvm/virtio/block_device.h"
#include "stage1-kvm/virtio/virtqueue.h"
#include "tests/vmm/support/fake_virtqueue_driver.h"

namespace podrt::vmm {
namespace {

using testing::FakeBuffer;
using testing::FakeVirtqueueDriver;

constexpr uint64_t kMemorySize = 16 << 20;
constexpr uint16_t kQueueSize = 256;

template <class T>
T or_die(Result<T> result) {
  if (!result) {
    std::fprintf(stderr, "virtqueue_bench: %s\n", result.error().message().c_str());
    std::exit(1);
  }
  return std::move(result).value();
}

/// One queue and its guest side.
struct QueueFixture {
  QueueFixture()
      : memory(or_die(GuestMemory::allocate(kMemorySize))),
        driver(memory, kQueueSize),
        queue(or_die(Virtqueue::create(memory, driver.config()))) {}

  GuestMemory memory;
  FakeVirtqueueDriver driver;
  Virtqueue queue;
};

struct BufferShape {
  uint32_t length;
  bool writable;
};

/// Pop + push of one chain, the driver reposting it each time (its cost included, as small as
/// the device's: a few guest-memory stores).
void pop_push(benchmark::State& state, std::vector<BufferShape> buffers) {
  QueueFixture fixture;
  std::vector<FakeBuffer> shape;
  for (const auto& buffer : buffers)
    shape.push_back({fixture.driver.allocate(buffer.length), buffer.length, buffer.writable});
  for (auto _ : state) {
    fixture.driver.add_chain(shape);
    auto chain = fixture.queue.pop();
    if (!chain || !*chain) state.SkipWithError("pop failed");
    benchmark::DoNotOptimize(chain);
    if (!fixture.queue.push_used((*chain)->head, 0)) state.SkipWithError("push failed");
    fixture.driver.take_used();
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_PopPushOneDescriptor(benchmark::State& state) { pop_push(state, {{4096, true}}); }
/// A block request's shape: header, data, status.
void BM_PopPushThreeDescriptors(benchmark::State& state) {
  pop_push(state, {{16, false}, {4096, true}, {1, true}});
}

/// A 4 KiB chain of one readable and one writable 4 KiB buffer.
struct CopyFixture : QueueFixture {
  CopyFixture() {
    uint64_t in = driver.allocate(4096, 4096), out = driver.allocate(4096, 4096);
    driver.add_chain({{in, 4096, false}, {out, 4096, true}});
    chain = *or_die(queue.pop());
  }
  DescriptorChain chain;
};

void BM_ReadFrom4KiB(benchmark::State& state) {
  CopyFixture fixture;
  std::vector<uint8_t> bytes(4096);
  for (auto _ : state) {
    auto copied = fixture.queue.read_from(fixture.chain, 0, bytes);
    benchmark::DoNotOptimize(copied);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * 4096);
}

void BM_WriteTo4KiB(benchmark::State& state) {
  CopyFixture fixture;
  std::vector<uint8_t> bytes(4096, 0x5a);
  for (auto _ : state) {
    auto copied = fixture.queue.write_to(fixture.chain, 0, bytes);
    benchmark::DoNotOptimize(copied);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * 4096);
}

/// A whole virtio-blk IN request of 4 KiB, from posting to the used entry: header parse, bounds
/// checks, a pread from a (page-cached) 1 MiB file straight into guest memory, status byte.
void BM_BlockRead4KiB(benchmark::State& state) {
  char name[] = "/tmp/podrt-bench-disk-XXXXXX";
  int fd = ::mkstemp(name);
  if (fd < 0 || ::ftruncate(fd, 1 << 20) != 0) {
    state.SkipWithError("cannot create the disk image");
    return;
  }
  ::close(fd);
  auto device = or_die(BlockDevice::open(name));
  ::unlink(name);

  QueueFixture fixture;
  std::vector<Virtqueue> queues;
  queues.push_back(std::move(fixture.queue));
  int interrupts = 0;
  VirtioActivation activation{
      .memory = &fixture.memory,
      .queues = queues,
      .signal_used = [&interrupts] { ++interrupts; },
      .fail = [&state](const Error& error) { state.SkipWithError(error.message().c_str()); },
  };
  if (!device->activate(BlockDevice::kFeatureReadOnly, std::move(activation))) {
    state.SkipWithError("activate failed");
    return;
  }
  struct {
    uint32_t type, reserved;
    uint64_t sector;
  } header{BlockDevice::kRequestIn, 0, 0};
  uint64_t header_address = fixture.driver.allocate(sizeof header);
  (void)fixture.memory.write_object(header_address, header);
  uint64_t data = fixture.driver.allocate(4096, 4096), status = fixture.driver.allocate(1);
  std::vector<FakeBuffer> shape = {
      {header_address, sizeof header, false}, {data, 4096, true}, {status, 1, true}};
  uint64_t sector = 0;
  for (auto _ : state) {
    // Walk the file so the request is not always the same sector.
    header.sector = sector;
    sector = (sector + 8) % device->capacity_sectors();
    (void)fixture.memory.write_object(header_address, header);
    fixture.driver.add_chain(shape);
    device->queue_notified(0);
    fixture.driver.take_used();
  }
  state.SetBytesProcessed(state.iterations() * 4096);
  benchmark::DoNotOptimize(interrupts);
}

BENCHMARK(BM_PopPushOneDescriptor);
BENCHMARK(BM_PopPushThreeDescriptors);
BENCHMARK(BM_ReadFrom4KiB);
BENCHMARK(BM_WriteTo4KiB);
BENCHMARK(BM_BlockRead4KiB);

}  // namespace
}  // namespace podrt::vmm

BENCHMARK_MAIN();
