// Package cost holds the published list prices that describe's cost
// accounting compares a run with. They are internal: the figures it
// computes (client.Cost) are the product's interface, the prices behind
// them change with the providers' price lists.
package cost

// Published list prices used for comparison (USD), as of 2026.
const (
	// StepFunctionsStandardPerTransition: AWS Step Functions Standard
	// workflows, $0.025 per 1,000 state transitions.
	StepFunctionsStandardPerTransition = 0.025 / 1000
	// LambdaDurablePerOperation: AWS Lambda durable functions, $8 per
	// million durable operations.
	LambdaDurablePerOperation = 8.0 / 1_000_000
)
