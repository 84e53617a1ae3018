import Foundation
import Logging
import SlipwayCore
import SlipwayRuntime

/// The receiver (`pg_receivewal`, supervised) and the shipping of what it wrote.
extension WALArchiver {
    /// Starts the receiver when it is not running (at most every 2 s); one a dead daemon left is stopped first, since
    /// a slot streams to one receiver at a time.
    func superviseReceiver() async throws(SlipwayError) {
        if let r = receiver {
            guard let status = ProcessInspector.reap(r.pid) else { return }
            receiver = nil
            try? FileManager.default.removeItem(atPath: pidFile)
            problem = "pg_receivewal exited with status \(status): " + ProcessPipeline.tail(logFile, lines: 3)
            failingSince = failingSince ?? now()
            logger.warning("pg_receivewal exited; restarting it", metadata: ["source": "\(place.source)", "status": "\(status)"])
        }
        guard now() >= nextStart else { return }
        nextStart = now().addingTimeInterval(2)
        await stopLeftover()
        let receivewal = try Tools.require(["pg_receivewal"], package: "postgresql-client")
        try DirectoryArchiver.makeDirectory(spool)
        try DirectoryArchiver.makeDirectory(scratch)
        // --no-loop: the archiver restarts it (and says why). Not --synchronous: its fsync per message slowed the server's
        // own commits; the slot advances as the receiver flushes (at the end of each segment), so what a crash of this
        // host loses before then the server still keeps and streams again.
        let child = try ProcessSpawner.spawn(argv: [receivewal, "--directory=\(spool)", "--slot=\(slot)", "--no-loop",
                                                    "--status-interval=1", "--dbname=\(url.redacted)"],
                                             directory: "/", environment: url.postgresEnvironment(), logFile: logFile)
        receiver = child
        receiverSince = now()
        do { try PrivateFile.write(Data("\(child.pid) \(child.startTime)".utf8), to: pidFile) } catch {
            // It runs all the same; only a daemon killed before it stops it would not find it to stop.
            logger.warning("pg_receivewal's pid file not written", metadata: ["source": "\(place.source)", "error": "\(error.message)"])
        }
    }

    /// A receiver that a daemon killed before it could stop it still streams from the slot: stopped.
    func stopLeftover() async {
        guard let text = FileManager.default.contents(atPath: pidFile).flatMap({ String(data: $0, encoding: .utf8) }) else { return }
        let parts = text.split(separator: " ").compactMap { Int64($0) }
        try? FileManager.default.removeItem(atPath: pidFile)
        guard parts.count == 2, let stat = ProcessInspector.stat(Int32(parts[0])), stat.startTime == UInt64(parts[1]), !stat.isGone else { return }
        _ = await ProcessGroup.stop(Int32(parts[0]), startTime: UInt64(parts[1]), timeout: .seconds(5))
    }

    func stopReceiver() async {
        guard let r = receiver else { return }
        _ = await ProcessGroup.stop(r.pid, startTime: r.startTime, timeout: .seconds(10))
        _ = await ProcessSpawner.wait(r.pid, timeout: .seconds(1))
        receiver = nil
        try? FileManager.default.removeItem(atPath: pidFile)
    }

    /// Ships every finished segment in the spool (then removes it), and the segment being written when it changed
    /// and half `max_lag` passed since it was last shipped (`final`: whenever it changed).
    func ship(final: Bool) async throws(SlipwayError) {
        guard let system else { return }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: spool)) ?? []).sorted()
        let wal = "\(place.prefix)\(system)/wal/"
        for name in names where Self.isSegment(name) {
            let path = spool + "/" + name
            let stamp = Self.modified(path) ?? now()
            _ = try await stores.putCompressed(path, as: wal + "\(name).\(Int64(stamp.timeIntervalSince1970 * 1000))", codec: codec, key: key,
                                               scratch: scratch, log: logFile)
            // Its copy as a partial segment is superseded (also one shipped before a restart, which this run never saw).
            let partialKey = wal + name + ".partial" + codec.fileExtension + (key == nil ? "" : ".enc")
            for store in stores {
                // Left behind it is only clutter (a restore prefers the finished segment); retention removes it.
                do { try await store.deleteObject(partialKey) } catch {
                    logger.warning("continuous archive: a superseded partial segment not removed", metadata: ["key": "\(partialKey)", "store": "\(store.label)", "error": "\(error.message)"])
                }
            }
            if shippedPartial?.name == name + ".partial" { shippedPartial = nil }
            do { try FileManager.default.removeItem(atPath: path) } catch { throw SlipwayError(.failed, "cannot remove \(path) after shipping it", cause: error) }
            // With a later segment being written, this one's time says nothing of what the archive lacks.
            if !names.contains(where: { $0.hasSuffix(".partial") }) { lastShipped = max(lastShipped ?? stamp, stamp) }
            segments += 1
        }
        guard let partial = names.last(where: { $0.hasSuffix(".partial") && Self.isSegment(String($0.dropLast(8))) }) else { return }
        let path = spool + "/" + partial
        guard let stamp = Self.modified(path), stamp != shippedPartial?.stamp || partial != shippedPartial?.name else {
            unshippedSince = nil
            return
        }
        unshippedSince = unshippedSince ?? stamp
        guard final || now().timeIntervalSince(lastPartialShip) >= settings.maxLag.seconds / 2 else { return }
        // Only its written part (the receiver pads the file with zeros and only appends): read as it compresses.
        let written = Self.writtenLength(path)
        guard written > 0 else { return }
        let part = "\(scratch)/\(place.environment)-\(place.source)-\(partial)\(codec.fileExtension)"
        defer { try? FileManager.default.removeItem(atPath: part) }
        try await ProcessPipeline([.init(["head", "-c", String(written)])] + (codec.compressStage.map { [$0] } ?? []), input: path, output: part,
                                  logFile: logFile).run()
        let objectKey = try await stores.putSealed(part, as: wal + partial + codec.fileExtension, key: key)
        shippedPartial = (partial, stamp, objectKey)
        lastPartialShip = now()
        unshippedSince = nil
        lastShipped = max(lastShipped ?? stamp, stamp)
        segments += 1
    }

    /// How much of a partial segment the receiver wrote: its WAL pages (8 KiB, each starting with a non-zero header)
    /// up to the first page still zero, found by binary search.
    static func writtenLength(_ path: String, page: Int = 8192) -> Int {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return 0 }
        func used(_ i: Int) -> Bool {
            var head = [UInt8](repeating: 0, count: 8)
            return pread(fd, &head, 8, off_t(i * page)) == 8 && head.contains { $0 != 0 }
        }
        var lo = 0, hi = Int(st.st_size) / page
        while lo < hi {
            let mid = (lo + hi) / 2
            if used(mid) { lo = mid + 1 } else { hi = mid }
        }
        return lo * page
    }

    /// A WAL segment's file name: 24 hex digits.
    static func isSegment(_ name: String) -> Bool { name.count == 24 && name.allSatisfy(\.isHexDigit) }

    static func modified(_ path: String) -> Date? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
    }
}
