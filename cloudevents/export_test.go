package cloudevents

// DecodeTrigger decodes and validates a trigger as read from the triggers
// bucket, for the fuzz target.
var DecodeTrigger = decodeTrigger
