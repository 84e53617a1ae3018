import Foundation
import SlipwayCore

/// A fleet deploy's story in the shared state: the record and an audit entry written before any host is asked, each
/// progress line as a `fleet.progress` event (in order, without holding the deploy up), the outcome and its audit entry.
public final class SharedJournal: Sendable {
    public let shared: SharedState
    let record: FleetDeploymentRecord
    let continuation: AsyncStream<Event>.Continuation
    let writer: Task<Void, Never>

    /// Records `record` as running; throws (nothing changed) when the shared state cannot take it.
    public init(_ shared: SharedState, _ record: FleetDeploymentRecord, warn: @escaping @Sendable (String) -> Void) async throws(SlipwayError) {
        try await shared.begin(record)
        try await shared.audit(environment: record.environment, actor: record.actor, action: "fleet.\(record.kind.rawValue)",
                               target: "\(record.environment) \(record.version)", outcome: "started",
                               detail: "\(record.id): on \(record.hosts.joined(separator: ", ")) by \(record.holder)")
        self.shared = shared
        self.record = record
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self)
        self.continuation = continuation
        writer = Task {
            var warned = false
            for await event in stream {
                do throws(SlipwayError) { try await shared.append(event) } catch {
                    if !warned { warn("the shared event log missed a line: \(error.message)") }
                    warned = true
                }
            }
        }
        post(.started, "\(record.kind.rawValue) of \(record.version) to \(record.hosts.count) host(s) by \(record.actor)")
    }

    public func post(_ change: EventPayload.Fleet.Change, _ detail: String, state: String? = nil) {
        continuation.yield(Event(environment: record.environment,
                                 payload: .fleet(.init(change: change, deployment: record.id, version: record.version, state: state, detail: detail))))
    }

    /// `log`, with each line also posted as progress.
    public func logging(_ log: @escaping @Sendable (String) -> Void) -> @Sendable (String) -> Void {
        { [self] line in
            log(line)
            post(.progress, line)
        }
    }

    /// The outcome: the last event, the record finished, the audit entry; the writer drained.
    public func finish(_ outcome: FleetOutcome) async throws(SlipwayError) {
        post(.finished, outcome.message, state: outcome.state.rawValue)
        continuation.finish()
        await writer.value
        try await shared.finish(outcome)
        try await shared.audit(environment: record.environment, actor: record.actor, action: "fleet.\(record.kind.rawValue)",
                               target: "\(record.environment) \(record.version)", outcome: outcome.state.rawValue, detail: "\(record.id): \(outcome.message)")
    }
}
