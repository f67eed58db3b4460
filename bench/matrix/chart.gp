# bench/matrix/chart.gp: DIR/chart.svg from the data report.pl writes, one panel above the other:
# the median /bin/true start-to-exit time per mode (with its p95), and the median host PSS per
# pod per mode, one idle pod and density_n at once. Log scales: VMs cost ~100x a container here.
# A panel whose workloads did not run (has_start, has_memory: 0) is left out.
# usage: gnuplot -e "dir='DIR'; title='...'; density_n=N; has_start=1; has_memory=1" chart.gp
panels = has_start + has_memory
set terminal svg size 1000,(panels * 380) dynamic enhanced font "sans,11" background rgb "white"
set output dir . "/chart.svg"
set datafile missing "?"
set style fill solid 0.8 border -1
set grid ytics lc rgb "#dddddd"
set logscale y
set xtics nomirror font "sans,10"
set key top left
set multiplot layout panels,1 title title font "sans,12"

if (has_start) {
  set title "Start to exit of /bin/true (median; bar: p95)"
  set ylabel "ms (log scale)"
  set yrange [1:*]
  set boxwidth 0.6
  plot dir . "/chart-start.dat" using 0:2:xtic(1) with boxes lc rgb "#4472c4" notitle, \
       "" using 0:2:2:3 with yerrorbars lc rgb "black" pt -1 notitle, \
       "" using 0:2:(sprintf("%.0f", $2)) with labels offset 1.4,0.6 font "sans,9" notitle
}

if (has_memory) {
  set title "Host memory per pod (median PSS)"
  set ylabel "MiB (log scale)"
  set yrange [0.5:*]
  set boxwidth 0.38
  plot dir . "/chart-memory.dat" using 0:(1/0):xtic(1) with points notitle, \
       "" using ($0 - 0.2):2 with boxes lc rgb "#ed7d31" title "one idle pod", \
       "" using ($0 + 0.2):3 with boxes lc rgb "#a5a5a5" title sprintf("per pod, %d at once", density_n), \
       "" using ($0 - 0.2):2:(sprintf("%.1f", $2)) with labels offset 0,0.6 font "sans,9" notitle, \
       "" using ($0 + 0.2):3:(sprintf("%.1f", $3)) with labels offset 0,0.6 font "sans,9" notitle
}
unset multiplot
