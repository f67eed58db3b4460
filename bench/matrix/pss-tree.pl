#!/usr/bin/perl
# pss-tree.pl PID...: the host memory of the process trees rooted at each PID (the PIDs and all
# their descendants, each process counted once): prints "PSS_KIB RSS_KIB PROCESSES", the sums of
# Pss and Rss from /proc/PID/smaps_rollup. PSS splits each shared page between the processes
# that map it, so the sum over a pod's processes is what that pod costs the host; RSS counts
# shared pages (the runtime's libraries) in full in every process. A process that exits while it
# is read is left out.
use strict;
use warnings;

my %children;
opendir(my $proc, '/proc') or die "pss-tree.pl: /proc: $!\n";
for my $pid (grep { /^\d+$/ } readdir $proc) {
  open(my $fh, '<', "/proc/$pid/stat") or next;
  my $stat = <$fh> // next;
  # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
  my ($ppid) = $stat =~ /\)\s+\S+\s+(\d+)/ or next;
  push @{$children{$ppid}}, $pid;
}
closedir $proc;

my %seen;
my @todo = grep { /^\d+$/ } @ARGV;
my ($pss, $rss, $count) = (0, 0, 0);
while (defined(my $pid = shift @todo)) {
  next if $seen{$pid}++;
  push @todo, @{$children{$pid} // []};
  open(my $fh, '<', "/proc/$pid/smaps_rollup") or next;
  my ($p, $r);
  while (<$fh>) {
    $p = $1 if /^Pss:\s+(\d+) kB/;
    $r = $1 if /^Rss:\s+(\d+) kB/;
  }
  next unless defined $p;  # a kernel thread or a process gone meanwhile
  $pss += $p; $rss += $r // 0; $count++;
}
print "$pss $rss $count\n";
