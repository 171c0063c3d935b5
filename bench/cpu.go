package main

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuSample is a snapshot of the machine's and this process's CPU time, to
// tell how much of the machine a benchmark had: the VM may be shared with
// other work, which shows up as CPU used by other processes.
type cpuSample struct {
	at          time.Time
	busy, total float64 // machine jiffies (/proc/stat)
	self        time.Duration
}

func sampleCPU() cpuSample {
	s := cpuSample{at: time.Now()}
	if f, err := os.Open("/proc/stat"); err == nil {
		sc := bufio.NewScanner(f)
		if sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) > 5 && fields[0] == "cpu" {
				for i, v := range fields[1:] {
					x, _ := strconv.ParseFloat(v, 64)
					if i >= 8 { // guest time is already counted in user
						break
					}
					s.total += x
					if i != 3 && i != 4 { // idle, iowait
						s.busy += x
					}
				}
			}
		}
		f.Close()
	}
	// Children: the worker processes of SCALE, FAILOVER and TIMERKILL,
	// counted once they have exited and been waited for (within the run).
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if syscall.Getrusage(who, &ru) == nil {
			s.self += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	return s
}

// cpuShares returns, between two samples, the share of the machine's CPU
// capacity (all cores) used by this process (with its exited worker
// processes) and by everything else, in %.
func cpuShares(a, b cpuSample) (self, others float64) {
	wall := b.at.Sub(a.at)
	if wall <= 0 || b.total <= a.total {
		return 0, 0
	}
	capacity := float64(wall) * float64(runtime.NumCPU())
	self = 100 * float64(b.self-a.self) / capacity
	machine := 100 * (b.busy - a.busy) / (b.total - a.total)
	return self, max(machine-self, 0)
}

// loadAvg returns the 1-minute load average.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}
