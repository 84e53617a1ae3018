import Histogram

/// Responses and latencies over sliding windows: three rings of slots (10 × 1 s, 6 × 10 s, 5 × 1 min),
/// each slot with its counters and an HdrHistogram of latencies in microseconds. A window is the sum of
/// its ring's slots still inside it, so "10s" covers the last 9–10 seconds, "1m" 50–60 s, "5m" 4–5 min.
/// Time is passed in (uptime nanoseconds), so tests drive it with their own clock. A request is counted in
/// the current second first (one histogram record), which moves into the rings once the second is over.
struct TrafficWindows {
    struct Slot {
        var epoch: UInt64 = .max
        var counts = WindowCounts()
        var latency: Histogram<UInt32>?
    }

    struct WindowCounts: Sendable, Equatable {
        var requests = 0
        var r2xx = 0, r3xx = 0, r4xx = 0, r5xx = 0
        /// Ended without a complete response (the client or the instance went away).
        var failed = 0
        var upstreamErrors = 0

        mutating func add(_ o: WindowCounts) {
            requests += o.requests
            r2xx += o.r2xx; r3xx += o.r3xx; r4xx += o.r4xx; r5xx += o.r5xx
            failed += o.failed
            upstreamErrors += o.upstreamErrors
        }
    }

    struct Ring {
        let name: String
        let widthNs: UInt64
        var slots: [Slot]

        init(name: String, width seconds: UInt64, count: Int) {
            self.name = name
            widthNs = seconds * 1_000_000_000
            slots = Array(repeating: Slot(), count: count)
        }

        /// The slot for `now`, emptied first when it last held an older period.
        mutating func slot(_ now: UInt64) -> Int {
            let epoch = now / widthNs
            let i = Int(epoch % UInt64(slots.count))
            if slots[i].epoch != epoch {
                slots[i].epoch = epoch
                slots[i].counts = WindowCounts()
                slots[i].latency?.reset()
            }
            return i
        }

        func live(_ now: UInt64) -> [Slot] {
            let epoch = now / widthNs
            return slots.filter { $0.epoch != .max && $0.epoch + UInt64(slots.count) > epoch && $0.epoch <= epoch }
        }
    }

    static let highestMicros: UInt64 = 60_000_000
    var rings = [Ring(name: "10s", width: 1, count: 10), Ring(name: "1m", width: 10, count: 6), Ring(name: "5m", width: 60, count: 5)]
    /// The second being counted. Requests land here and move into the rings when the second is over or
    /// the windows are read, so a request records one latency, not one per ring (every ring's slot is a
    /// whole number of seconds, so moving a second's counts in whole loses nothing).
    var current = Slot()

    /// One request ended: `status` nil when no complete response went back; `micros` from its head to its end.
    mutating func record(status: Int?, micros: UInt64, now: UInt64) {
        let second = now / 1_000_000_000
        if current.epoch != second { fold(into: second) }
        current.counts.requests += 1
        switch status {
        case .none: current.counts.failed += 1
        case .some(200..<300): current.counts.r2xx += 1
        case .some(300..<400): current.counts.r3xx += 1
        case .some(400..<500): current.counts.r4xx += 1
        case .some(100..<200): break
        case .some: current.counts.r5xx += 1
        }
        guard status != nil else { return }
        if current.latency == nil {
            current.latency = Histogram<UInt32>(highestTrackableValue: Self.highestMicros, numberOfSignificantValueDigits: .two)
        }
        _ = current.latency!.record(min(micros, Self.highestMicros))
    }

    mutating func upstreamError(now: UInt64) {
        let second = now / 1_000_000_000
        if current.epoch != second { fold(into: second) }
        current.counts.upstreamErrors += 1
    }

    /// Adds the second counted so far to each ring's slot for it, and starts counting `second`.
    private mutating func fold(into second: UInt64) {
        if current.epoch != .max {
            let at = current.epoch * 1_000_000_000
            let latency = current.latency.flatMap { $0.totalCount > 0 ? $0 : nil }
            for r in rings.indices {
                let i = rings[r].slot(at)
                rings[r].slots[i].counts.add(current.counts)
                guard let latency else { continue }
                if rings[r].slots[i].latency == nil { rings[r].slots[i].latency = latency } else { rings[r].slots[i].latency!.add(latency) }
            }
        }
        current.epoch = second
        current.counts = WindowCounts()
        current.latency?.reset()
    }

    /// Each window's counters and merged latency histogram at `now`.
    mutating func windows(now: UInt64) -> [Window] {
        fold(into: now / 1_000_000_000)
        return rings.map { ring in
            var window = Window(name: ring.name)
            for s in ring.live(now) { window.add(s.counts, s.latency) }
            return window
        }
    }

    /// A window's counters and latencies, summed over slots (and over event-loop shards).
    struct Window {
        let name: String
        var counts = WindowCounts()
        var latency: Histogram<UInt32>?

        mutating func add(_ c: WindowCounts, _ h: Histogram<UInt32>?) {
            counts.add(c)
            guard let h, h.totalCount > 0 else { return }
            if latency == nil { latency = h } else { latency!.add(h) }
        }
    }
}
