import Foundation
import GRDB
import Logging
import SlipwayCore
import SlipwayRuntime

/// Continuous archiving of one SQLite source (the Litestream approach): the daemon holds a read transaction on the
/// app's database, so the write-ahead log cannot start over behind it, reads the committed frames the app appends,
/// and ships them as numbered segments (`ContinuousSegment`) to every store within `max_lag`. A generation starts
/// with a snapshot (SQLite's backup API inside that read transaction) and replays the log from its start; every
/// 500 pages of log the archiver checkpoints it itself (`ContinuousArchiver+Checkpoint`). Where it stopped is kept in
/// `stateFile` after each shipment, so a restart resumes without a gap or a duplicate; anything it cannot prove
/// continuous (the log started over while the daemon was down) starts a new generation.
public actor ContinuousArchiver {
    public struct Place: Sendable, Equatable {
        public var app: String
        public var environment: String
        public var source: String
        public var path: String
        public init(app: String, environment: String, source: String, path: String) {
            self.app = app
            self.environment = environment
            self.source = source
            self.path = path
        }
        /// The prefix of this source's archive in a store.
        public var prefix: String { "continuous/\(app)/\(environment)/\(source)/" }
    }

    /// Kept in `stateFile` after each shipment: the generation, the next segment's number, and the log position shipped.
    struct State: Codable, Equatable {
        var generation: String
        var index: Int
        var startedAt: Date
        var header: WALFile.Header?
        var position: WALFile.Position?
    }

    public let place: Place
    let settings: ContinuousSettings
    let stores: [any ArchiveObjects]
    let key: BackupKey?
    let stateFile: String
    let scratch: String
    let logger: Logger
    /// Snapshots and segments are compressed with it (zstd when installed) before they are sealed; the object's key
    /// names the codec (`.zst`), so archives written before, plain, read as they are.
    let codec = Codec.preferred
    /// Where the compressor's own errors go (in scratch, which exists whenever there is something to ship).
    var logFile: String { "\(scratch)/\(place.environment)-\(place.source)-compress.log" }
    let now: @Sendable () -> Date

    /// The pinned reader (its open read transaction keeps the log from starting over) and the connection that
    /// checkpoints and writes `_slipway_seq`.
    var reader: DatabaseQueue?
    var writer: DatabaseQueue?
    var pinned = false
    var state: State?
    /// Read but not shipped yet, and when the oldest of it was read.
    var buffer: [ContinuousSegment.Entry] = []
    var bufferedSince: Date?
    /// Set by a checkpoint of the archiver's own that read the whole log: the next log continues the generation.
    var restartExpected = false
    /// When the newest shipped transaction was seen committed, segments shipped since this start, why it is not archiving.
    var lastShipped: Date?
    var segments = 0
    var problem: String?
    /// Since when archiving has been failing (nil: it is not).
    var failingSince: Date?
    public var status: ContinuousStatus {
        ContinuousStatus(environment: place.environment, source: place.source, generation: state?.generation, lastShipped: lastShipped,
                         segments: segments, error: problem, lagSeconds: ContinuousStatus.lag(since: [bufferedSince, failingSince], now: now()))
    }

    public init(place: Place, settings: ContinuousSettings, stores: [any ArchiveObjects], key: BackupKey?, stateFile: String, scratch: String,
                logger: Logger, now: @escaping @Sendable () -> Date = Date.init) {
        self.place = place
        self.settings = settings
        self.stores = stores
        self.key = key
        self.stateFile = stateFile
        self.scratch = scratch
        self.logger = logger
        self.now = now
        if let data = FileManager.default.contents(atPath: stateFile) { state = try? JSONDecoder().decode(State.self, from: data) }
    }

    /// The archiver checkpoints the log itself at this many pages, half SQLite's own automatic checkpoint, so the app's
    /// never has to (it could not start the log over while the archiver holds it anyway).
    static let checkpointPages = 500

    /// Archives until cancelled; what was read is shipped before it returns.
    public func run() async {
        while !Task.isCancelled {
            do {
                try await step()
                failingSince = nil
            } catch {
                problem = error.message
                failingSince = failingSince ?? now()
                logger.warning("continuous archiving", metadata: ["source": "\(place.source)", "error": "\(error.message)"])
                detach()
            }
            try? await Task.sleep(for: settings.pollInterval)
        }
        do { try await flush() } catch {
            logger.warning("continuous archiving: what was read last is not shipped; the next start reads it again", metadata: ["source": "\(place.source)", "error": "\(error.message)"])
        }
        detach()
    }

    /// One look at the log: attach when needed, read what was committed, ship when due, checkpoint when the log is long.
    func step() async throws(SlipwayError) {
        guard FileManager.default.fileExists(atPath: place.path) else {
            detach()
            problem = "the database \(place.path) does not exist (yet)"
            return
        }
        if reader == nil { try await attach() }
        try await read()
        if let since = bufferedSince, now().timeIntervalSince(since) >= settings.maxLag.seconds / 2 { try await flush() }
        if buffer.isEmpty, let header = state?.header, let at = state?.position?.offset, at > Self.checkpointPages * header.frameSize {
            try await checkpoint()
        }
        // A generation older than `snapshot_every` gives way to a new one (a fresh snapshot) after a checkpoint.
        if buffer.isEmpty, let s = state, now().timeIntervalSince(s.startedAt) >= settings.snapshotEvery.seconds { try await newGeneration() }
        problem = nil
    }

    /// Reads the committed transactions appended since the last read (a new log when ours started over as expected).
    func read() async throws(SlipwayError) {
        guard var s = state else { return }
        guard let head = WALFile.header(Self.bytes(place.path + "-wal", from: 0, count: WALFile.headerSize)) else { return }
        if let current = s.header, !head.sameLog(current) {
            guard restartExpected else {
                logger.warning("the log started over while nothing held it (the app checkpointed, or the daemon was down); a new generation", metadata: ["source": "\(place.source)"])
                try await newGeneration()
                return
            }
            s.header = head
            s.position = WALFile.Position(start: head)
            restartExpected = false
        } else if s.header == nil {
            s.header = head
            s.position = WALFile.Position(start: head)
        }
        guard let header = s.header, let position = s.position else { return }
        let bytes = Self.bytes(place.path + "-wal", from: position.offset, count: nil)
        let (transactions, next) = WALFile.transactions(bytes, header: header, from: position)
        s.position = next
        state = s
        take(transactions)
    }

    func take(_ transactions: [WALFile.Transaction]) {
        guard !transactions.isEmpty else { return }
        let t = now()
        if bufferedSince == nil { bufferedSince = t }
        buffer += transactions.map { ContinuousSegment.Entry(time: t, transaction: $0) }
    }

    /// Ships what was read as the generation's next segment to every store, then records where it stopped.
    func flush() async throws(SlipwayError) {
        guard let s = state, !buffer.isEmpty, let pageSize = s.header?.pageSize else { return }
        let segment = ContinuousSegment(pageSize: pageSize, entries: buffer)
        let name = String(format: "%010d-%013.0f-%013.0f.seg", s.index, (segment.first?.timeIntervalSince1970 ?? 0) * 1000,
                          (segment.last?.timeIntervalSince1970 ?? 0) * 1000)
        let file = "\(scratch)/\(place.environment)-\(place.source)-\(name)"
        defer { try? FileManager.default.removeItem(atPath: file) }
        do { try Data(segment.encoded()).write(to: URL(fileURLWithPath: file)) } catch { throw SlipwayError(.failed, "cannot write \(file)", cause: error) }
        _ = try await stores.putCompressed(file, as: "\(place.prefix)\(s.generation)/\(name)", codec: codec, key: key, scratch: scratch, log: logFile)
        // Only this archiver's run loop changes `state`; looked at again after the await all the same.
        guard var shipped = state, shipped.generation == s.generation else { return }
        shipped.index = s.index + 1
        state = shipped
        try save()
        lastShipped = segment.last
        segments += 1
        buffer = []
        bufferedSince = nil
    }

    func save() throws(SlipwayError) {
        guard let state else { return }
        do { try PrivateFile.write(try JSONEncoder().encode(state), to: stateFile) } catch let error as SlipwayError { throw error } catch {
            throw SlipwayError(.internal, "cannot write \(stateFile)", cause: error)
        }
    }

    /// `count` bytes of `path` from `offset` (to the end when nil); empty when there is nothing there.
    static func bytes(_ path: String, from offset: Int, count: Int?) -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        do {
            try handle.seek(toOffset: UInt64(offset))
            let data = try count.map { try handle.read(upToCount: $0) } ?? handle.readToEnd()
            return data.map { [UInt8]($0) } ?? []
        } catch { return [] }
    }
}

/// A source's continuous archiver as the daemon runs it: SQLite's (`ContinuousArchiver`) or PostgreSQL's (`WALArchiver`).
public protocol ContinuousSourceArchiver: Actor {
    /// Archives until cancelled; what was read is shipped before it returns.
    func run() async
    var status: ContinuousStatus { get }
}

extension ContinuousArchiver: ContinuousSourceArchiver {}
