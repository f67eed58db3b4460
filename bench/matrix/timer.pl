#!/usr/bin/perl
# timer.pl OUT CMD...: runs CMD (fork, exec, wait), appends its wall time in microseconds
# (CLOCK_MONOTONIC) to OUT as one line, and exits with CMD's status (128+N if a signal ended it).
# Only CMD is timed: the clock is read just before the fork and just after the wait.
use strict;
use warnings;
use Time::HiRes qw(clock_gettime CLOCK_MONOTONIC);

my $out = shift // die "usage: timer.pl OUT CMD...\n";
@ARGV or die "usage: timer.pl OUT CMD...\n";
my $t0 = clock_gettime(CLOCK_MONOTONIC);
my $pid = fork() // die "timer.pl: fork: $!\n";
if ($pid == 0) { exec { $ARGV[0] } @ARGV or exit 127; }
waitpid($pid, 0);
my $status = $?;
my $t1 = clock_gettime(CLOCK_MONOTONIC);
open(my $fh, '>>', $out) or die "timer.pl: $out: $!\n";
printf $fh "%d\n", ($t1 - $t0) * 1e6;
close $fh;
exit($status & 127 ? 128 + ($status & 127) : $status >> 8);
