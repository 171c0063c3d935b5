package otelsetup

import (
	"bufio"
	"context"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

const prometheusContentType = "text/plain; version=0.0.4; charset=utf-8"

// PrometheusHandler serves what reader collects in the Prometheus text
// exposition format (version 0.0.4): OpenTelemetry names with dots turned
// into underscores, the unit as a suffix (_seconds, _bytes), _total on
// counters, histograms as _bucket/_sum/_count, and the resource as
// target_info. The reader must be registered with a MeterProvider.
func PrometheusHandler(reader sdkmetric.Reader) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(r.Context(), &rm); err != nil && !isShutdown(err) {
			http.Error(w, "collect metrics: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", prometheusContentType)
		bw := bufio.NewWriter(w)
		WritePrometheus(bw, &rm)
		_ = bw.Flush()
	})
}

func isShutdown(err error) bool {
	return err == sdkmetric.ErrReaderShutdown || err == context.Canceled
}

// family is one Prometheus metric family: its samples come from every
// scope that produced an OpenTelemetry metric of that name.
type family struct {
	name, help, typ string
	lines           []string
}

// WritePrometheus writes rm in the Prometheus text format.
func WritePrometheus(w *bufio.Writer, rm *metricdata.ResourceMetrics) {
	if rm.Resource != nil && rm.Resource.Len() > 0 {
		w.WriteString("# HELP target_info Target metadata\n# TYPE target_info gauge\ntarget_info")
		writeLabels(w, rm.Resource.Attributes(), "", "")
		w.WriteString(" 1\n")
	}
	families := map[string]*family{}
	var order []string
	add := func(name, help, typ string) *family {
		f := families[name]
		if f == nil {
			f = &family{name: name, help: help, typ: typ}
			families[name] = f
			order = append(order, name)
		}
		return f
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			base := promName(m.Name, m.Unit)
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				sumLines(add, base, m.Description, d.IsMonotonic, d.DataPoints)
			case metricdata.Sum[float64]:
				sumLines(add, base, m.Description, d.IsMonotonic, d.DataPoints)
			case metricdata.Gauge[int64]:
				gaugeLines(add(base, m.Description, "gauge"), d.DataPoints)
			case metricdata.Gauge[float64]:
				gaugeLines(add(base, m.Description, "gauge"), d.DataPoints)
			case metricdata.Histogram[float64]:
				histLines(add(base, m.Description, "histogram"), d.DataPoints)
			case metricdata.Histogram[int64]:
				histLines(add(base, m.Description, "histogram"), d.DataPoints)
			}
		}
	}
	for _, name := range order {
		f := families[name]
		w.WriteString("# HELP " + f.name + " " + escapeHelp(f.help) + "\n")
		w.WriteString("# TYPE " + f.name + " " + f.typ + "\n")
		for _, l := range f.lines {
			w.WriteString(l)
		}
	}
}

func sumLines[N int64 | float64](add func(string, string, string) *family, base, help string, monotonic bool, dps []metricdata.DataPoint[N]) {
	if !monotonic {
		gaugeLines(add(base, help, "gauge"), dps)
		return
	}
	f := add(strings.TrimSuffix(base, "_total")+"_total", help, "counter")
	for _, dp := range dps {
		f.lines = append(f.lines, sample(f.name, dp.Attributes, "", "", float64(dp.Value)))
	}
}

func gaugeLines[N int64 | float64](f *family, dps []metricdata.DataPoint[N]) {
	for _, dp := range dps {
		f.lines = append(f.lines, sample(f.name, dp.Attributes, "", "", float64(dp.Value)))
	}
}

func histLines[N int64 | float64](f *family, dps []metricdata.HistogramDataPoint[N]) {
	for _, dp := range dps {
		var cum uint64
		for i, b := range dp.Bounds {
			if i < len(dp.BucketCounts) {
				cum += dp.BucketCounts[i]
			}
			f.lines = append(f.lines, sample(f.name+"_bucket", dp.Attributes, "le", formatFloat(b), float64(cum)))
		}
		f.lines = append(f.lines, sample(f.name+"_bucket", dp.Attributes, "le", "+Inf", float64(dp.Count)))
		f.lines = append(f.lines, sample(f.name+"_sum", dp.Attributes, "", "", float64(dp.Sum)))
		f.lines = append(f.lines, sample(f.name+"_count", dp.Attributes, "", "", float64(dp.Count)))
	}
}

func sample(name string, attrs attribute.Set, extraKey, extraVal string, v float64) string {
	var b strings.Builder
	b.WriteString(name)
	bw := bufio.NewWriter(&b)
	writeLabels(bw, attrs.ToSlice(), extraKey, extraVal)
	_ = bw.Flush()
	b.WriteByte(' ')
	b.WriteString(formatFloat(v))
	b.WriteByte('\n')
	return b.String()
}

func writeLabels(w *bufio.Writer, kvs []attribute.KeyValue, extraKey, extraVal string) {
	if len(kvs) == 0 && extraKey == "" {
		return
	}
	labels := make([][2]string, 0, len(kvs)+1)
	for _, kv := range kvs {
		labels = append(labels, [2]string{promLabel(string(kv.Key)), kv.Value.Emit()})
	}
	sort.SliceStable(labels, func(i, j int) bool { return labels[i][0] < labels[j][0] })
	if extraKey != "" {
		labels = append(labels, [2]string{extraKey, extraVal})
	}
	w.WriteByte('{')
	for i, l := range labels {
		if i > 0 {
			w.WriteByte(',')
		}
		w.WriteString(l[0])
		w.WriteString(`="`)
		w.WriteString(escapeLabel(l[1]))
		w.WriteByte('"')
	}
	w.WriteByte('}')
}

// promName maps an OpenTelemetry metric name and unit to a Prometheus name.
func promName(name, unit string) string {
	n := sanitize(name, false)
	suffix := ""
	switch unit {
	case "s":
		suffix = "_seconds"
	case "ms":
		suffix = "_milliseconds"
	case "By":
		suffix = "_bytes"
	case "1":
		suffix = "_ratio"
	}
	if suffix != "" && !strings.HasSuffix(n, suffix) {
		n += suffix
	}
	return n
}

func promLabel(key string) string { return sanitize(key, true) }

// sanitize replaces characters Prometheus names cannot hold with '_'.
func sanitize(s string, label bool) string {
	var b strings.Builder
	for i, r := range s {
		ok := r < unicode.MaxASCII && (r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9') || (!label && r == ':'))
		if ok {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`).Replace(s)
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
