package cloudevents

// DecodeTrigger decodes and validates a trigger as read from the triggers
// bucket, for the fuzz target.
var DecodeTrigger = decodeTrigger

// TriggerCount is how many triggers the ingress's watcher has loaded, so
// tests wait for every trigger they put, not only the first.
func (in *Ingress) TriggerCount() int {
	in.snap.mu.RLock()
	defer in.snap.mu.RUnlock()
	return len(in.snap.triggers)
}
