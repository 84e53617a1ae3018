import Foundation
import Logging
import SlipwayCore
import SlipwayRuntime

/// Continuous archiving of one PostgreSQL source (the pgBackRest approach, without an `archive_command` on a server
/// Slipway does not own): `pg_receivewal` streams the server's WAL through a replication slot into a spool directory
/// (the slot keeps the server from recycling WAL not yet received, also while the daemon is down), and the archiver
/// ships each finished segment to every store, and the segment being written whenever it changed, at most every half
/// `max_lag`; base backups (`pg_basebackup`, `+Base`) start when there is none and then every `snapshot_every`.
/// Objects: `<prefix><system>/wal/<segment>.<ms>[.zst][.enc]` (finished at ms), `<segment>.partial…` (being written),
/// `<system>/base/<id>/base.tar…` and its `base.json`.
public actor WALArchiver: ContinuousSourceArchiver {
    public let place: ContinuousArchiver.Place
    let url: DatabaseURL
    let settings: ContinuousSettings
    let stores: [any ArchiveObjects]
    let key: BackupKey?
    /// Where `pg_receivewal` writes; the receiver's pid file sits beside it.
    let spool: String
    let scratch: String
    let logFile: String
    let logger: Logger
    let now: @Sendable () -> Date
    let codec: Codec

    /// The server's `system_identifier`, its major version and WAL segment size, once identified.
    var system: String?
    var serverVersion = 0
    var segmentBytes = 16 << 20
    var receiver: ProcessSpawner.Spawned?
    var receiverSince: Date?
    var nextStart = Date.distantPast
    /// The partial segment last shipped: its name, modification time and object key.
    var shippedPartial: (name: String, stamp: Date, key: String)?
    var lastPartialShip = Date.distantPast
    var lastShipped: Date?
    var segments = 0
    var problem: String?
    /// Why the last base backup failed (nil: it did not).
    var baseProblem: String?
    var retained: Int64?
    var lastSlotCheck = Date.distantPast
    /// When the newest base finished (nil: not looked up yet; distantPast: there is none).
    var newestBase: Date?
    var baseTask: Task<Void, Never>?

    /// Since when the newest WAL received has waited to be shipped, and since when archiving has been failing.
    var unshippedSince: Date?
    var failingSince: Date?

    public var status: ContinuousStatus {
        ContinuousStatus(environment: place.environment, source: place.source, generation: system, lastShipped: lastShipped, segments: segments,
                         error: problem ?? baseProblem, retainedBytes: retained, lagSeconds: ContinuousStatus.lag(since: [unshippedSince, failingSince], now: now()))
    }

    public init(place: ContinuousArchiver.Place, url: DatabaseURL, settings: ContinuousSettings, stores: [any ArchiveObjects], key: BackupKey?,
                spool: String, scratch: String, logFile: String, logger: Logger, now: @escaping @Sendable () -> Date = Date.init) {
        self.place = place
        self.url = url
        self.settings = settings
        self.stores = stores
        self.key = key
        self.spool = spool
        self.scratch = scratch
        self.logFile = logFile
        self.logger = logger
        self.now = now
        codec = Codec.preferred
    }

    /// The slot this source streams through: one per app, environment and source on a server.
    public var slot: String { Self.slotName(app: place.app, environment: place.environment, source: place.source) }

    static func slotName(app: String, environment: String, source: String) -> String {
        let raw = "slipway_\(app)_\(environment)_\(source)".lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }
        return String(String(raw).prefix(63))
    }

    var pidFile: String { spool + ".receiver" }

    public func run() async {
        while !Task.isCancelled {
            do {
                try await step()
                // Well again once the receiver has stayed up a while (one that dies at once is restarted every 2 s).
                if receiver != nil, let since = receiverSince, now().timeIntervalSince(since) >= 5 {
                    problem = nil
                    failingSince = nil
                }
            } catch {
                problem = error.message
                failingSince = failingSince ?? now()
                logger.warning("continuous archiving", metadata: ["source": "\(place.source)", "error": "\(error.message)"])
            }
            try? await Task.sleep(for: settings.pollInterval)
        }
        baseTask?.cancel()
        await baseTask?.value
        // The receiver writes what it received and exits on SIGTERM; then the rest is shipped.
        await stopReceiver()
        do { try await ship(final: true) } catch {
            logger.warning("continuous archiving: the last WAL is not shipped; the next start ships it", metadata: ["source": "\(place.source)", "error": "\(error.message)"])
        }
    }

    func step() async throws(SlipwayError) {
        if system == nil { try await identify() }
        try await superviseReceiver()
        try await ship(final: false)
        // Every 10 s; until the receiver first connected the slot holds no position yet, so sooner.
        if now().timeIntervalSince(lastSlotCheck) >= (retained == nil ? 1 : 10) {
            lastSlotCheck = now()
            retained = try? await retainedBytes()
        }
        try await baseIfDue()
    }

    /// The server's identity and settings, and the slot (created when missing; it keeps WAL from then on).
    func identify() async throws(SlipwayError) {
        let line = try await PostgresArchiver.psqlLines(url, "SELECT system_identifier, current_setting('server_version_num'), current_setting('wal_level'), current_setting('wal_segment_size') FROM pg_control_system()",
                                                        context: context).first ?? ""
        let parts = line.split(separator: "|").map(String.init)
        guard parts.count == 4, let version = Int(parts[1]) else { throw SlipwayError(.failed, "cannot identify the server of \(url.redacted)", cause: line) }
        guard parts[2] != "minimal" else {
            throw SlipwayError(.failed, "\(url.redacted) runs with wal_level = minimal: continuous archiving needs replica (the default); set it in postgresql.conf and restart the server")
        }
        serverVersion = version / 10000
        segmentBytes = Self.bytes(parts[3]) ?? segmentBytes
        let receivewal = try Tools.require(["pg_receivewal"], package: "postgresql-client")
        do {
            try await ProcessPipeline([.init([receivewal, "--create-slot", "--if-not-exists", "--slot=\(slot)", "--dbname=\(url.redacted)"],
                                             environment: url.postgresEnvironment())], logFile: logFile).run()
        } catch {
            throw SlipwayError(.failed, "cannot create the replication slot \(slot) on \(url.redacted): the source's user needs the REPLICATION attribute and pg_hba.conf a replication line for it",
                               cause: error.cause ?? error.message)
        }
        system = parts[0]
        logger.info("continuous archiving of PostgreSQL", metadata: ["source": "\(place.source)", "system": "\(parts[0])", "slot": "\(slot)"])
    }

    /// `16MB`, `1GB`, … as PostgreSQL shows sizes.
    static func bytes(_ text: String) -> Int? {
        let units: [(String, Int)] = [("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)]
        for (suffix, factor) in units where text.hasSuffix(suffix) { return Int(text.dropLast(suffix.count)).map { $0 * factor } }
        return Int(text)
    }

    var context: ArchiveContext { ArchiveContext(staging: scratch, logFile: logFile, codec: codec, secrets: [:], scratch: scratch) }

    /// How much WAL the server keeps for the slot.
    func retainedBytes() async throws(SlipwayError) -> Int64? {
        let lines = try await PostgresArchiver.psqlLines(url, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint FROM pg_replication_slots WHERE slot_name = '\(slot)'", context: context)
        return lines.first.flatMap { Int64($0) }
    }
}
