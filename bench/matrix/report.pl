#!/usr/bin/perl
# report.pl DIR [CHART.GP]: reads DIR/matrix.jsonl (bench/matrix/run.sh's raw records) and writes
#   DIR/report.md     machine, modes, the headline table, one table per workload, caveats
#   DIR/headline.md   the headline table alone (what bench/README.md shows)
#   DIR/results.json  one JSON document: machine, config, modes, cells with stats and samples
#   DIR/chart.svg     start latency and memory per mode (gnuplot CHART.GP, when gnuplot is here)
# Median: the middle sample (the mean of the two middle ones for an even count); p95: nearest
# rank; ratio: the cell's median / crun's median for the same workload.
use strict;
use warnings;
use JSON::PP;

my ($dir, $chart_gp) = @ARGV;
defined $dir or die "usage: report.pl DIR [CHART.GP]\n";
my $json = JSON::PP->new->canonical->pretty;

my (%machine, %config, %end, @modes, %mode_info, @workloads, %workload_info, %samples, %failures);
open(my $in, '<', "$dir/matrix.jsonl") or die "report.pl: $dir/matrix.jsonl: $!\n";
while (my $line = <$in>) {
  next unless $line =~ /\S/;
  my $r = decode_json($line);
  my $type = $r->{type} // '';
  if ($type eq 'machine') { %machine = %$r }
  elsif ($type eq 'config') { %config = %$r }
  elsif ($type eq 'end') { %end = %$r }
  elsif ($type eq 'mode') { push @modes, $r->{mode}; $mode_info{$r->{mode}} = $r }
  elsif ($type eq 'workload') { push @workloads, $r->{workload}; $workload_info{$r->{workload}} = $r }
  elsif ($type eq 'sample') { push @{$samples{$r->{workload}}{$r->{mode}}}, $r }
  elsif ($type eq 'failure') { push @{$failures{$r->{workload}}{$r->{mode}}}, $r }
}
close $in;
delete $_->{type} for \%machine, \%config, \%end;
my @ok = grep { $mode_info{$_}{status} eq 'ok' } @modes;
my @skipped = grep { $mode_info{$_}{status} ne 'ok' } @modes;

sub median {
  my @v = sort { $a <=> $b } @_;
  return undef unless @v;
  return @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2;
}
sub p95 {
  my @v = sort { $a <=> $b } @_;
  return undef unless @v;
  my $rank = int(@v * 0.95);
  $rank++ if $rank < @v * 0.95;
  return $v[$rank - 1];
}
my %timed = (true => 1, cpu => 1, io => 1);
my %title = (true => 'Start to exit: /bin/true', cpu => 'CPU-bound loop', io => 'I/O: write and fsync 16 MiB',
             memory => 'Memory: one idle pod', density => 'Density: idle pods at once');
sub scale { my ($w) = @_; return $timed{$w} ? 1000 : 1024 }  # µs → ms, KiB → MiB
sub unit { my ($w) = @_; return $timed{$w} ? 'ms' : 'MiB' }
sub num { my ($v, $d) = @_; return defined $v ? sprintf("%.*f", $d // 1, $v) : 'n/a' }

# The cells: stats per workload and mode.
my %cell;
for my $w (@workloads) {
  for my $m (@ok) {
    my @s = @{$samples{$w}{$m} // []};
    my @f = @{$failures{$w}{$m} // []};
    my @v = map { $_->{value} } @s;
    my %c = (mode => $m, runs => scalar @v, failures => scalar @f, unit => ($timed{$w} ? 'us' : 'KiB'),
             median => median(@v), p95 => p95(@v), samples => \@v);
    $c{failure_reasons} = [map { $_->{reason} } @f] if @f;
    if (!@v) {
      $c{na} = @f ? "all " . scalar(@f) . " runs failed: $f[-1]{reason}" : 'not run';
    }
    if ($w eq 'memory' || $w eq 'density') {
      $c{median_processes} = median(map { $_->{processes} } @s);
      $c{median_rss_kib_per_pod} = median(map { $_->{total_rss_kib} / $_->{pods} } @s);
      $c{pods} = $s[0]{pods} if @s;
    }
    $cell{$w}{$m} = \%c;
  }
  my $crun = $cell{$w}{crun};
  for my $m (@ok) {
    my $c = $cell{$w}{$m};
    $c->{ratio_to_crun} = (defined $c->{median} && $crun && $crun->{median}) ? $c->{median} / $crun->{median} : undef;
  }
  if ($w eq 'cpu' || $w eq 'io') {  # the workload's own time: the cell's median less /bin/true's
    for my $m (@ok) {
      my ($c, $t) = ($cell{$w}{$m}, $cell{true}{$m});
      $c->{net_of_start} = (defined $c->{median} && $t && defined $t->{median}) ? $c->{median} - $t->{median} : undef;
    }
  }
}
sub ratio { my ($c) = @_; return defined $c->{ratio_to_crun} ? sprintf("%.2f×", $c->{ratio_to_crun}) : 'n/a' }
sub short_na { my ($c) = @_; return 'n/a' . ($c->{na} ? " ($c->{na})" : '') }

# ---- the Markdown report -----------------------------------------------------------------------
my $md = '';
my $date = $machine{date} // '';
$md .= "# podrt benchmark matrix ($date)\n\n";
$md .= "| machine | |\n|---|---|\n";
$md .= "| CPU | $machine{cpu}, $machine{cores} cores, $machine{memory_mib} MiB |\n";
$md .= "| kernel | $machine{kernel} ($machine{distro}) |\n";
$md .= "| virtualization | CPU flags: $machine{virtualization_flags}; KVM kind: $machine{kvm_kind} |\n";
$md .= "| kvm pods (`podrt info`) | $machine{kvm_pods} |\n";
$md .= "| cgroup mode | " . ($machine{cgroup} || $machine{cgroup_mode}) . " |\n";
$md .= "| load average | $machine{load_average} at the start, " . ($end{load_average} // '?') . " at the end |\n";
$md .= "| podrt | $machine{podrt_version} |\n\n";
my $kind = $config{quick} ? '`--quick`' : 'full';
$md .= "A $kind run of " . ($end{duration_s} // '?') . " s: runs interleaved (in each round every mode runs once, in the order of the tables), ";
$md .= "$config{rounds} rounds per cell";
$md .= $config{rounds_vm} != $config{rounds} ? ", $config{rounds_vm} for the VM modes (each VM run costs seconds here)" : '';
$md .= "; density: $config{density_rounds} rounds of $config{density_n} pods at once.";
$md .= " Ratios are to crun's median." if grep { $_ eq 'crun' } @ok;
$md .= "\n\n";

my @cols = grep { exists $cell{$_} } qw(true cpu io memory density);
my %head = (true => '/bin/true start to exit (ms)', cpu => 'CPU loop (ms)', io => 'write + fsync 16 MiB (ms)',
            memory => 'PSS of one idle pod (MiB)',
            density => "PSS per pod, $config{density_n} at once (MiB)");
my $headline = "| mode | " . join(' | ', map { $head{$_} } @cols) . " |\n|---|" . join('', map { '---|' } @cols) . "\n";
for my $m (@ok) {
  $headline .= "| $m | " . join(' | ', map {
    my $c = $cell{$_}{$m};
    defined $c->{median} ? num($c->{median} / scale($_), 1) . ' (' . ratio($c) . ')' : 'n/a';
  } @cols) . " |\n";
}
$headline .= "\nNot run here: " . join('; ', map { "$_ ($mode_info{$_}{reason})" } @skipped) . ".\n" if @skipped;
$md .= "## Headline: median (ratio to crun's)\n\n$headline\n";
my $have_chart = 0;
$md .= "![start latency and memory per mode](chart.svg)\n\n" if $chart_gp;  # made below

$md .= "## Modes\n\n| mode | version | command |\n|---|---|---|\n";
$md .= "| $_ | $mode_info{$_}{version} | `$mode_info{$_}{command}` |\n" for @ok;
$md .= "\nSkipped here:\n\n" if @skipped;
$md .= "- **$_**: $mode_info{$_}{reason}\n" for @skipped;
$md .= "\n" if @skipped;

for my $w (@workloads) {
  my $u = unit($w);
  $md .= "## $title{$w}\n\n$workload_info{$w}{description}. App: `$workload_info{$w}{argv}`\n\n";
  if ($timed{$w}) {
    my $net = $w ne 'true' && exists $cell{true};
    $md .= "| mode | runs | median ($u) | p95 ($u) | median / crun's |" . ($net ? " median less /bin/true's ($u) |" : '') . "\n";
    $md .= "|---|---|---|---|---|" . ($net ? '---|' : '') . "\n";
    for my $m (@ok) {
      my $c = $cell{$w}{$m};
      if (!defined $c->{median}) { $md .= "| $m | 0 | " . short_na($c) . " | | |" . ($net ? ' |' : '') . "\n"; next }
      $md .= "| $m | $c->{runs}" . ($c->{failures} ? " ($c->{failures} failed)" : '') . " | " . num($c->{median} / 1000) .
             " | " . num($c->{p95} / 1000) . " | " . ratio($c) . " |" .
             ($net ? ' ' . (defined $c->{net_of_start} ? num($c->{net_of_start} / 1000) : 'n/a') . ' |' : '') . "\n";
    }
  } else {
    my $pods = $w eq 'density' ? " | pods" : '';
    $md .= "| mode | " . ($w eq 'density' ? 'rounds' : 'runs') . "$pods | median PSS per pod ($u) | p95 ($u) | median / crun's | RSS per pod ($u, median) | processes (median) |\n";
    $md .= "|---|---|" . ($pods ? '---|' : '') . "---|---|---|---|---|\n";
    for my $m (@ok) {
      my $c = $cell{$w}{$m};
      if (!defined $c->{median}) { $md .= "| $m | 0" . ($pods ? ' |' : '') . " | " . short_na($c) . " | | | | |\n"; next }
      $md .= "| $m | $c->{runs}" . ($c->{failures} ? " ($c->{failures} failed)" : '') . ($pods ? " | $c->{pods}" : '') .
             " | " . num($c->{median} / 1024) . " | " . num($c->{p95} / 1024) . " | " . ratio($c) .
             " | " . num($c->{median_rss_kib_per_pod} / 1024) . " | " . num($c->{median_processes}, 0) . " |\n";
    }
  }
  $md .= "\n";
}

$md .= "## How each cell is measured\n\n";
$md .= "- Timed cells (true, cpu, io): the runtime's command alone, CLOCK_MONOTONIC around fork, exec and wait " .
       "(bench/matrix/timer.pl); removing the container or pod afterwards is not timed. One untimed warm-up " .
       "/bin/true run per mode first. p95 is the nearest rank (the slowest run when there are fewer than 20).\n";
$md .= "- The cpu loop's iterations are calibrated on this host (the rootfs's static busybox awk, run directly) to ~" .
       "$config{cpu_native_ms} ms natively: $config{cpu_iterations} additions.\n" if exists $cell{cpu};
$md .= "- io writes to the root of the app's rootfs: podrt-ns's overlay upper and the peers' rootfs copy are on the " .
       "same disk (/var/tmp), so fsync reaches it; in the VM modes the file is in guest RAM (podrt's tmpfs overlay " .
       "upper, the plain VM's initramfs), so there fsync is cheap and the number is the guest's CPU cost.\n" if exists $cell{io};
$md .= "- Memory cells: the app prints \"podrt-bench-ready\" and sleeps; once every pod of the round has printed it, the " .
       "runtime's process trees (from the process each mode starts: podrt run, which execs stage1 and forks the pod " .
       "init or QEMU; crun run; runc run; systemd-nspawn; qemu-system-x86_64) are read from /proc/PID/smaps_rollup: " .
       "the sum of Pss (shared pages split between the processes mapping them), the largest of 5 samples 100 ms " .
       "apart, divided by the pods; for VMs this includes the guest RAM the VM touched. RSS counts shared pages in " .
       "full in every process.\n" if exists $cell{memory} || exists $cell{density};
$md .= "- $config{cgroup_workaround}: it alone runs as `unshare -m sh -c 'umount /sys/fs/cgroup/unified && exec crun …'`, " .
       "with the timer inside, so the namespace setup is not timed; it then makes its cgroups in the v1 hierarchies only.\n"
  if $config{cgroup_workaround} && grep { $_ eq 'crun' } @ok;
$md .= "- The VM modes run under QEMU with " . uc($config{accel}) . ($config{accel} eq 'tcg'
       ? " (software emulation: this host's /dev/kvm cannot boot Linux guests), so their guest CPU work is several times slower than native, and their numbers are this host's, not KVM's"
       : "") . ". The plain QEMU microvm boots the same kernel with stage1-kvm's machine flags and an initramfs " .
       "of the same rootfs whose static /init runs the app and reboots; podrt's VM has a virtio-blk disk and a " .
       "virtio-serial control port more, and podrt-guest-init as /init.\n" if grep { is_vm_mode($_) } @ok;
$md .= "- systemd-nspawn, several at once (density, memory): `SYSTEMD_NSPAWN_LOCK=0` (no image lock: all share one " .
       "directory), a machine name each and `--kill-signal=SIGKILL`, so that stopping it stops its app.\n"
  if grep { $_ eq 'nspawn' } @ok and exists $cell{density};
$md .= "\nRaw records: `matrix.jsonl`; all cells with their samples: `results.json`.\n";
sub is_vm_mode { my ($m) = @_; return $m =~ /^podrt-kvm-/ || $m eq 'qemu-microvm' }

# ---- the chart -----------------------------------------------------------------------------------
if ($chart_gp) {
  open(my $s, '>', "$dir/chart-start.dat") or die "report.pl: $dir/chart-start.dat: $!\n";
  print $s "# mode median_ms p95_ms (/bin/true start to exit)\n";
  for my $m (@ok) {
    my $c = $cell{true}{$m} // {};
    printf $s "%s %s %s\n", $m, map { defined $_ ? sprintf("%.2f", $_ / 1000) : '?' } $c->{median}, $c->{p95};
  }
  close $s;
  open(my $g, '>', "$dir/chart-memory.dat") or die "report.pl: $dir/chart-memory.dat: $!\n";
  print $g "# mode memory_mib density_mib (median PSS per pod)\n";
  for my $m (@ok) {
    printf $g "%s %s %s\n", $m, map { my $c = $cell{$_}{$m}; $c && defined $c->{median} ? sprintf("%.2f", $c->{median} / 1024) : '?' } qw(memory density);
  }
  close $g;
  my $title = "$machine{cpu}, $machine{cores} cores, KVM: $machine{kvm_kind}, $date";
  $title =~ s/["\\]//g;
  my $measured = sub { my ($w) = @_; return (grep { defined $cell{$w}{$_}{median} } @ok) ? 1 : 0 };
  my ($has_start, $has_memory) = ($measured->('true'), ($measured->('memory') || $measured->('density')) ? 1 : 0);
  unlink "$dir/chart.svg";
  if (($has_start || $has_memory) &&
      system('gnuplot', '-e', "dir='$dir'; title=\"$title\"; density_n=$config{density_n}; " .
             "has_start=$has_start; has_memory=$has_memory", $chart_gp) == 0 && -s "$dir/chart.svg") {
    $have_chart = 1;
  } else {
    $md =~ s/^!\[start latency.*\n\n//m;
    $md .= "\nNo chart: " . (!($has_start || $has_memory) ? 'neither /bin/true nor memory was measured'
           : system('sh', '-c', 'command -v gnuplot >/dev/null') == 0 ? 'gnuplot failed' : 'gnuplot is not installed') . ".\n";
  }
}

open(my $out, '>', "$dir/report.md") or die "report.pl: $dir/report.md: $!\n";
print $out $md;
close $out;
open($out, '>', "$dir/headline.md") or die "report.pl: $dir/headline.md: $!\n";
print $out $headline;
close $out;
my %doc = (machine => \%machine, config => \%config, run => \%end,
           modes => [map { my %i = %{$mode_info{$_}}; delete $i{type}; \%i } @modes],
           workloads => [map { my $w = $_; {workload => $w, description => $workload_info{$w}{description},
                                            argv => $workload_info{$w}{argv},
                                            cells => [map { $cell{$w}{$_} } @ok]} } @workloads],
           chart => $have_chart ? 'chart.svg' : undef);
open($out, '>', "$dir/results.json") or die "report.pl: $dir/results.json: $!\n";
print $out $json->encode(\%doc);
close $out;
