import Foundation
import Logging
import SlipwayCore
import SlipwayStore

/// The notifications' outbox: every event a `notify:` channel wants is queued once (the `notify` cursor moves
/// with the rows in one transaction), then delivered with retries, alerts of one environment grouped, and a
/// silence holding back what it covers. It owns the `notifications` table and the cursor; `NotificationService`
/// pumps it twice a second. A new channel kind is `NotifySettings` (config) and `NotificationSender` (sending).
public struct Notifications: Sendable, FeatureObject {
    let context: EngineContext

    /// `GET /v1/notifications`: the outbox, newest first.
    public func list(limit: Int) throws(SlipwayError) -> [NotificationInfo] { try store.signals.notifications(limit: limit) }

    static let cursor = "notify"

    /// At the first start, notifications begin with the events after this moment (not the whole history).
    func startCursor() {
        guard (try? store.signals.cursor(Self.cursor)) == 0, let last = try? store.lastEvents(1).last else { return }
        logger.write("move the notifications' cursor", to: store) { () throws(SlipwayError) in
            try store.signals.enqueueNotifications([], cursor: Self.cursor, through: last.id)
        }
    }

    /// Queues the events after the cursor for every channel that wants them, then delivers what is due.
    public func pump(now: Date = Date()) async {
        queue(now: now)
        await deliver(now: now)
    }

    func queue(now: Date) {
        let cfg = config
        guard let after = try? store.signals.cursor(Self.cursor), let events = try? store.events(after: after, limit: 200), let last = events.last else { return }
        let silences = (try? store.signals.activeSilences(now: now)) ?? [:]
        let waiting = events.contains { $0.type.hasPrefix("alert.") }
            ? ((try? store.signals.waitingAlerts(now: now)) ?? []).map { (row: $0, alert: Self.alertName(of: $0)) } : []
        var rows: [NotificationInfo] = []
        for event in events {
            guard let message = NotificationMessage(event) else { continue }
            if case .alert(let a) = event.payload, silences["\(event.environment ?? "")/\(a.name)"] != nil { continue }
            for channel in cfg.notify where message.wanted(by: channel) {
                let key = "\(channel.channelId)-\(event.id)"
                let body = NotificationBody(id: key, type: event.type, category: message.category, severity: message.severity,
                                            environment: event.environment, deploymentId: event.deploymentId, time: event.time, text: message.text, event: event)
                let json: Data
                do { json = try SlipwayJSON.encoder().encode(body) } catch {
                    // Not queued (it could never be sent), but counted and logged rather than dropped silently.
                    store.countWriteFailure()
                    logger.error("cannot encode a notification; it is not sent", metadata: ["event.id": "\(event.id)", "notify.channel": "\(channel.channelId)",
                                                                                           "error": "\(error)"])
                    continue
                }
                // An alert waits `group_wait` (or joins a group of others already waiting), so alerts of one environment
                // that start together leave as one message.
                var due = now
                if message.category == .alert {
                    due = now.addingTimeInterval(channel.groupWait.seconds)
                    if case .alert(let a) = event.payload {
                        due = NotificationBatch.due(channel: channel.channelId, environment: event.environment, alert: a.name, waiting: waiting, otherwise: due)
                    }
                }
                rows.append(NotificationInfo(key: key, channel: channel.channelId, environment: event.environment, eventId: event.id, eventType: event.type,
                                             severity: message.severity, text: message.text, body: String(decoding: json, as: UTF8.self),
                                             nextAttemptAt: due, createdAt: now))
            }
        }
        do { try store.signals.enqueueNotifications(rows, cursor: Self.cursor, through: last.id) } catch {
            logger.error("cannot queue notifications", metadata: ["error": "\(error)"])
        }
    }

    /// The alert an outbox row is about (nil for other events), from the event in its body.
    static func alertName(of n: NotificationInfo) -> String? {
        struct Carried: Decodable { var event: Event? }
        guard n.eventType.hasPrefix("alert."), let body = try? SlipwayJSON.decoder().decode(Carried.self, from: Data(n.body.utf8)),
              case .alert(let a)? = body.event?.payload else { return nil }
        return a.name
    }

    func deliver(now: Date) async {
        guard var due = try? store.signals.dueNotifications(now: now, limit: 100), !due.isEmpty else { return }
        // A silence that began while an alert's notification waited (group_wait, a retry) holds it back too.
        let silences = (try? store.signals.activeSilences(now: now)) ?? [:]
        if !silences.isEmpty {
            let quiet = due.filter { n in Self.alertName(of: n).map { silences["\(n.environment ?? "")/\($0)"] != nil } ?? false }
            if !quiet.isEmpty {
                logger.write("mark silenced notifications", to: self.store) { () throws(SlipwayError) in try self.store.signals.markSilenced(quiet.map(\.id), now: now) }
                due.removeAll { n in quiet.contains { $0.id == n.id } }
            }
        }
        guard !due.isEmpty else { return }
        let cfg = config
        let sender = NotificationSender(secrets: Secrets(root: cfg.root), directory: cfg.directory, logFile: cfg.logsDirectory + "/" + NotificationSender.logName)
        // At once: one slow receiver does not hold the others back.
        let store = store, logger = logger
        await withTaskGroup(of: Void.self) { group in
            for batch in NotificationBatch.group(due) {
                guard let channel = cfg.notify.first(where: { $0.channelId == batch.channel }) else {
                    for n in batch.members {
                        logger.write("record a notification's attempt", to: store) { () throws(SlipwayError) in
                            try store.signals.recordAttempt(n.id, delivered: false, error: "the channel is no longer in notify:", now: now)
                        }
                    }
                    continue
                }
                group.addTask {
                    let outcome = await sender.send(batch.notification, via: channel)
                    for n in batch.members {
                        do { try store.signals.recordAttempt(n.id, delivered: outcome.delivered, error: outcome.error, now: Date()) } catch {
                            logger.error("cannot record a notification attempt", metadata: ["notify.key": "\(n.key)", "error": "\(error)"])
                        }
                    }
                }
            }
        }
    }
}
