# kernbench: sys_time (s, lower is better): mean +- stddev per topology, a bar per kernel
# Written by swapbench plot; run 'gnuplot bar-kernbench-sys_time.gp' in this directory to render it again.
reset
set encoding utf8
set datafile missing "NaN"
set style data histograms
set style histogram errorbars gap 2 lw 1
set style fill solid 0.6 border -1
set key outside right top
set xlabel "topology"
set yrange [0:*]
set ylabel "s"
set title "kernbench: sys_time (s, lower is better)" . "\n" . "mean +- stddev over n=1 ok iterations; accel tcg"
set xtics ("nvme-64g" 0, "zram" 1)
set xrange [-0.6:1.6]

set terminal pngcairo size 900,560 noenhanced font "sans,10"
set output "bar-kernbench-sys_time.png"
set grid ytics
plot "bar-kernbench-sys_time.dat" using 2:3 lt 1 title "6.12", \
     "bar-kernbench-sys_time.dat" using 5:6 lt 2 title "6.18", \
     "bar-kernbench-sys_time.dat" using 8:9 lt 3 title "7.2", \
     "bar-kernbench-sys_time.dat" using 11:12 lt 4 title "7.3"
set output

set terminal dumb size 79,24 mono noenhanced
set output "bar-kernbench-sys_time.txt"
unset grid
plot "bar-kernbench-sys_time.dat" using 2:3 lt 1 title "6.12 (*)", \
     "bar-kernbench-sys_time.dat" using 5:6 lt 2 title "6.18 (#)", \
     "bar-kernbench-sys_time.dat" using 8:9 lt 3 title "7.2 ($)", \
     "bar-kernbench-sys_time.dat" using 11:12 lt 4 title "7.3 (%)"
set output
