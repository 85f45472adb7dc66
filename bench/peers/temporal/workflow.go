package main

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

const (
	taskQueue      = "record-review"
	reviewers      = "reviewers"
	completeSignal = "complete"
)

var reviewGroup = temporal.NewSearchAttributeKeyKeyword(reviewGroupAttribute)

// Record is what every engine receives when a record is created (scenario.ts recordOf).
type Record struct {
	Number  string `json:"number"`
	Amount  int    `json:"amount"`
	Status  string `json:"status"`
	OwnerID string `json:"ownerId"`
}

// RecordReview is the scenario's flow as a Temporal workflow: the review task for the group, a
// signal that completes it with a result, the decision, one of two ends.
func RecordReview(ctx workflow.Context, record Record) (string, error) {
	// The user task: the workflow records its candidate group (history event + visibility index) and waits.
	if err := workflow.UpsertTypedSearchAttributes(ctx, reviewGroup.ValueSet(reviewers)); err != nil {
		return "", err
	}
	var result string
	workflow.GetSignalChannel(ctx, completeSignal).Receive(ctx, &result)
	// The decision, as the BPMN gateway: Approve goes to `approved`, anything else to `rejected`.
	if result == "Approve" {
		return "approved", nil
	}
	return "rejected", nil
}
