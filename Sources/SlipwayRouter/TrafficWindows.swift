import Histogram

/// Responses and latencies over sliding windows: three rings of slots (10 × 1 s, 6 × 10 s, 5 × 1 min),
/// each slot with its counters and an HdrHistogram of latencies in microseconds. A window is the sum of
/// its ring's slots still inside it, so "10s" covers the last 9–10 seconds, "1m" 50–60 s, "5m" 4–5 min.
/// Time is passed in (uptime nanoseconds), so tests drive it with their own clock.
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

    /// One request ended: `status` nil when no complete response went back; `micros` from its head to its end.
    mutating func record(status: Int?, micros: UInt64, now: UInt64) {
        for r in rings.indices {
            let i = rings[r].slot(now)
            rings[r].slots[i].counts.requests += 1
            switch status {
            case .none: rings[r].slots[i].counts.failed += 1
            case .some(200..<300): rings[r].slots[i].counts.r2xx += 1
            case .some(300..<400): rings[r].slots[i].counts.r3xx += 1
            case .some(400..<500): rings[r].slots[i].counts.r4xx += 1
            case .some(100..<200): break
            case .some: rings[r].slots[i].counts.r5xx += 1
            }
            guard status != nil else { continue }
            if rings[r].slots[i].latency == nil {
                rings[r].slots[i].latency = Histogram<UInt32>(highestTrackableValue: Self.highestMicros, numberOfSignificantValueDigits: .two)
            }
            _ = rings[r].slots[i].latency!.record(min(micros, Self.highestMicros))
        }
    }

    mutating func upstreamError(now: UInt64) {
        for r in rings.indices {
            let i = rings[r].slot(now)
            rings[r].slots[i].counts.upstreamErrors += 1
        }
    }

    /// Each window's counters and merged latency histogram at `now`.
    func windows(now: UInt64) -> [Window] {
        rings.map { ring in
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
