package embedded

import (
	"fmt"
	"log"
	"os"
)

// serverLogger adapts the embedded server's logging. It writes to stderr
// only when enabled, never exits the process (the server calls Fatalf for
// start errors it expects the process to die of), and hands the first fatal
// message to StartServer.
type serverLogger struct {
	out   *log.Logger // nil when logging is off
	fatal chan string // buffered: the first fatal message
}

// newServerLogger returns a logger; name (may be empty) tells the nodes of
// a cluster apart in the output.
func newServerLogger(enabled bool, name string) *serverLogger {
	l := &serverLogger{fatal: make(chan string, 1)}
	if enabled {
		prefix := "nats-server "
		if name != "" {
			prefix += name + " "
		}
		l.out = log.New(os.Stderr, prefix, log.LstdFlags|log.Lmicroseconds)
	}
	return l
}

func (l *serverLogger) Noticef(format string, v ...any) { l.print("[INF] ", format, v) }
func (l *serverLogger) Warnf(format string, v ...any)   { l.print("[WRN] ", format, v) }
func (l *serverLogger) Errorf(format string, v ...any)  { l.print("[ERR] ", format, v) }
func (l *serverLogger) Debugf(format string, v ...any)  { l.print("[DBG] ", format, v) }
func (l *serverLogger) Tracef(format string, v ...any)  { l.print("[TRC] ", format, v) }

func (l *serverLogger) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	if l.out != nil {
		l.out.Print("[FTL] " + msg)
	}
	select {
	case l.fatal <- msg:
	default:
	}
}

func (l *serverLogger) print(level, format string, v []any) {
	if l.out == nil {
		return
	}
	l.out.Print(level + fmt.Sprintf(format, v...))
}
