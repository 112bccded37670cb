package client

import (
	"time"

	"github.com/hookline/hookline/wire"
)

// The API's request, response and spec types are defined in package wire,
// shared with the server. They are re-exported here under the same names,
// as aliases, so client users need import only this package: a
// client.Endpoint is a wire.Endpoint.

// Time is wire.Time, a time of the API's answers.
type Time = wire.Time

// TimeLayout is wire.TimeLayout, how the API writes times.
const TimeLayout = wire.TimeLayout

// TimeOf returns t as a Time.
func TimeOf(t time.Time) Time { return wire.TimeOf(t) }

// TimePtr returns t as a *Time, nil for nil.
func TimePtr(t *time.Time) *Time { return wire.TimePtr(t) }

// Delivery statuses, as wire defines them.
const (
	DeliveryPending   = wire.DeliveryPending
	DeliveryRetrying  = wire.DeliveryRetrying
	DeliverySucceeded = wire.DeliverySucceeded
	DeliveryFailed    = wire.DeliveryFailed
)

// Tenants, API keys, event types, endpoints, events, deliveries, sources,
// subscriptions, apply and batches.

// Error is wire.Error.
type Error = wire.Error

// Page is wire.Page.
type Page[T any] = wire.Page[T]

// Tenant is wire.Tenant.
type Tenant = wire.Tenant

// TenantCreate is wire.TenantCreate.
type TenantCreate = wire.TenantCreate

// TenantCreated is wire.TenantCreated.
type TenantCreated = wire.TenantCreated

// APIKey is wire.APIKey.
type APIKey = wire.APIKey

// APIKeyCreate is wire.APIKeyCreate.
type APIKeyCreate = wire.APIKeyCreate

// EventType is wire.EventType.
type EventType = wire.EventType

// Endpoint is wire.Endpoint.
type Endpoint = wire.Endpoint

// EndpointCreate is wire.EndpointCreate.
type EndpointCreate = wire.EndpointCreate

// EndpointUpdate is wire.EndpointUpdate.
type EndpointUpdate = wire.EndpointUpdate

// SecretRotate is wire.SecretRotate.
type SecretRotate = wire.SecretRotate

// Event is wire.Event.
type Event = wire.Event

// EventCreate is wire.EventCreate.
type EventCreate = wire.EventCreate

// Delivery is wire.Delivery.
type Delivery = wire.Delivery

// Attempt is wire.Attempt.
type Attempt = wire.Attempt

// Replay is wire.Replay.
type Replay = wire.Replay

// Verification is wire.Verification.
type Verification = wire.Verification

// SourceEventType is wire.SourceEventType.
type SourceEventType = wire.SourceEventType

// SourceDedup is wire.SourceDedup.
type SourceDedup = wire.SourceDedup

// SourceResponse is wire.SourceResponse.
type SourceResponse = wire.SourceResponse

// SourceHandshake is wire.SourceHandshake.
type SourceHandshake = wire.SourceHandshake

// Source is wire.Source.
type Source = wire.Source

// SourceCreate is wire.SourceCreate.
type SourceCreate = wire.SourceCreate

// SourcePostgres is wire.SourcePostgres.
type SourcePostgres = wire.SourcePostgres

// Rejection is wire.Rejection.
type Rejection = wire.Rejection

// Subscription is wire.Subscription.
type Subscription = wire.Subscription

// SubDest is wire.SubDest.
type SubDest = wire.SubDest

// SubscriptionCreate is wire.SubscriptionCreate.
type SubscriptionCreate = wire.SubscriptionCreate

// Declaration is wire.Declaration.
type Declaration = wire.Declaration

// EndpointDecl is wire.EndpointDecl.
type EndpointDecl = wire.EndpointDecl

// SubscriptionDecl is wire.SubscriptionDecl.
type SubscriptionDecl = wire.SubscriptionDecl

// DeclDest is wire.DeclDest.
type DeclDest = wire.DeclDest

// ApplyResult is wire.ApplyResult.
type ApplyResult = wire.ApplyResult

// Change is wire.Change.
type Change = wire.Change

// EventBatch is wire.EventBatch.
type EventBatch = wire.EventBatch

// BatchResult is wire.BatchResult.
type BatchResult = wire.BatchResult

// BatchItem is wire.BatchItem.
type BatchItem = wire.BatchItem

// Recover is wire.Recover.
type Recover = wire.Recover

// Recovered is wire.Recovered.
type Recovered = wire.Recovered

// Collections.

// CollectionSpec is wire.CollectionSpec.
type CollectionSpec = wire.CollectionSpec

// CollectionOp is wire.CollectionOp.
type CollectionOp = wire.CollectionOp

// FieldMap is wire.FieldMap.
type FieldMap = wire.FieldMap

// CollectionFetch is wire.CollectionFetch.
type CollectionFetch = wire.CollectionFetch

// CollectionMirror is wire.CollectionMirror.
type CollectionMirror = wire.CollectionMirror

// MirrorColumn is wire.MirrorColumn.
type MirrorColumn = wire.MirrorColumn

// Collection is wire.Collection.
type Collection = wire.Collection

// MirrorStatus is wire.MirrorStatus.
type MirrorStatus = wire.MirrorStatus

// Record is wire.Record.
type Record = wire.Record

// RecordChange is wire.RecordChange.
type RecordChange = wire.RecordChange

// Changes is wire.Changes.
type Changes = wire.Changes

// RecordsWrite is wire.RecordsWrite.
type RecordsWrite = wire.RecordsWrite

// RecordsWritten is wire.RecordsWritten.
type RecordsWritten = wire.RecordsWritten

// RecordResult is wire.RecordResult.
type RecordResult = wire.RecordResult

// Workflows.

// WorkflowSpec is wire.WorkflowSpec.
type WorkflowSpec = wire.WorkflowSpec

// WorkflowTrigger is wire.WorkflowTrigger.
type WorkflowTrigger = wire.WorkflowTrigger

// Step is wire.Step.
type Step = wire.Step

// HTTPStep is wire.HTTPStep.
type HTTPStep = wire.HTTPStep

// EmitStep is wire.EmitStep.
type EmitStep = wire.EmitStep

// IfStep is wire.IfStep.
type IfStep = wire.IfStep

// SwitchStep is wire.SwitchStep.
type SwitchStep = wire.SwitchStep

// DelayStep is wire.DelayStep.
type DelayStep = wire.DelayStep

// WaitForStep is wire.WaitForStep.
type WaitForStep = wire.WaitForStep

// ApprovalStep is wire.ApprovalStep.
type ApprovalStep = wire.ApprovalStep

// SyncStep is wire.SyncStep.
type SyncStep = wire.SyncStep

// FailStep is wire.FailStep.
type FailStep = wire.FailStep

// ParallelStep is wire.ParallelStep.
type ParallelStep = wire.ParallelStep

// Branch is wire.Branch.
type Branch = wire.Branch

// ForeachStep is wire.ForeachStep.
type ForeachStep = wire.ForeachStep

// ForeachCollection is wire.ForeachCollection.
type ForeachCollection = wire.ForeachCollection

// CallStep is wire.CallStep.
type CallStep = wire.CallStep

// RetryPolicy is wire.RetryPolicy.
type RetryPolicy = wire.RetryPolicy

// Workflow is wire.Workflow.
type Workflow = wire.Workflow

// WorkflowSaved is wire.WorkflowSaved.
type WorkflowSaved = wire.WorkflowSaved

// Run is wire.Run.
type Run = wire.Run

// RunStart is wire.RunStart.
type RunStart = wire.RunStart

// RunStep is wire.RunStep.
type RunStep = wire.RunStep

// RunFilter is wire.RunFilter.
type RunFilter = wire.RunFilter

// RunsChanged is wire.RunsChanged.
type RunsChanged = wire.RunsChanged

// Content: recipients, templates, notify rules, messages.

// Recipient is wire.Recipient.
type Recipient = wire.Recipient

// RecipientPrefs is wire.RecipientPrefs.
type RecipientPrefs = wire.RecipientPrefs

// QuietHours is wire.QuietHours.
type QuietHours = wire.QuietHours

// TemplateSpec is wire.TemplateSpec.
type TemplateSpec = wire.TemplateSpec

// TemplateLocale is wire.TemplateLocale.
type TemplateLocale = wire.TemplateLocale

// Template is wire.Template.
type Template = wire.Template

// TemplateSaved is wire.TemplateSaved.
type TemplateSaved = wire.TemplateSaved

// Preview is wire.Preview.
type Preview = wire.Preview

// Rendered is wire.Rendered.
type Rendered = wire.Rendered

// NotifyRule is wire.NotifyRule.
type NotifyRule = wire.NotifyRule

// RecipientDirectory is wire.RecipientDirectory.
type RecipientDirectory = wire.RecipientDirectory

// Lookup is wire.Lookup.
type Lookup = wire.Lookup

// NotifyRuleOut is wire.NotifyRuleOut.
type NotifyRuleOut = wire.NotifyRuleOut

// Message is wire.Message.
type Message = wire.Message

// ClusterStatus is wire.ClusterStatus.
type ClusterStatus = wire.ClusterStatus

// ClusterNode is wire.ClusterNode.
type ClusterNode = wire.ClusterNode

// EndpointSecret is wire.EndpointSecret.
type EndpointSecret = wire.EndpointSecret

// RecipientToken is wire.RecipientToken.
type RecipientToken = wire.RecipientToken

// WorkflowVersions is wire.WorkflowVersions.
type WorkflowVersions = wire.WorkflowVersions

// WorkflowEnable is wire.WorkflowEnable.
type WorkflowEnable = wire.WorkflowEnable

// PortalSessionCreate is wire.PortalSessionCreate.
type PortalSessionCreate = wire.PortalSessionCreate

// PortalSession is wire.PortalSession.
type PortalSession = wire.PortalSession

// QueueSpec is the body of PutQueue.
type QueueSpec = wire.QueueSpec

// Queue is a pull queue.
type Queue = wire.Queue

// QueueLease is the body of a lease.
type QueueLease = wire.QueueLease

// QueueMessages is the answer to a lease.
type QueueMessages = wire.QueueMessages

// QueueMessage is one leased event.
type QueueMessage = wire.QueueMessage

// QueueAck is the body of an ack or a nack.
type QueueAck = wire.QueueAck

// QueueAcked is the answer to an ack or a nack.
type QueueAcked = wire.QueueAcked

// QueueReplay is the body of ReplayQueue.
type QueueReplay = wire.QueueReplay

// QueueReplayed is the answer to ReplayQueue.
type QueueReplayed = wire.QueueReplayed
