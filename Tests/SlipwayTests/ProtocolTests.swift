import Foundation
import Histogram
import NIOCore
import SlipwayCore
import Testing
@testable import SlipwayRouter

/// HTTP/1.1 details of the byte-level proxy, over real sockets: pipelining, hop-by-hop headers, framing
/// that could be used to smuggle a request, HTTP/1.0 clients.
@Suite(.serialized)
struct ProtocolTests {
    @Test(.timeLimit(.minutes(1)))
    func pipelinedRequestsAreAnsweredInOrder() async throws {
        let a = try await RouterTests.backend("a")
        try await stopping([a.task]) {
            let (proxy, port) = try await RouterTests.proxy([a.port])
            try await closing(proxy) {
                let three = "GET /p/one HTTP/1.1\r\nHost: x\r\n\r\nGET /p/two HTTP/1.1\r\nHost: x\r\n\r\nGET /p/three HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                let (_, text) = try await TimeoutTests.readUntilClosed(port: port, send: three)
                #expect(text.components(separatedBy: "HTTP/1.1 200").count == 4, "\(text)")
                let one = try #require(text.range(of: "path one")), two = try #require(text.range(of: "path two")), three3 = try #require(text.range(of: "path three"))
                #expect(one.lowerBound < two.lowerBound && two.lowerBound < three3.lowerBound)
                #expect(text.lowercased().contains("connection: close"))
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func hopByHopHeadersAreDroppedAndForwardedOnesAdded() async throws {
        let a = try await RouterTests.backend("a")
        try await stopping([a.task]) {
            let (proxy, port) = try await RouterTests.proxy([a.port])
            try await closing(proxy) {
                let request = "GET /headers HTTP/1.1\r\nHost: shop.example\r\nConnection: close, X-Hop\r\nX-Hop: secret\r\nKeep-Alive: timeout=5\r\n"
                    + "X-Forwarded-For: 10.0.0.1\r\nX-Kept: yes\r\n\r\n"
                let (_, text) = try await TimeoutTests.readUntilClosed(port: port, send: request)
                let seen = text.lowercased()
                #expect(seen.contains("x-forwarded-for: 10.0.0.1, 127.0.0.1"), "\(text)")
                #expect(seen.contains("x-forwarded-proto: http") && seen.contains("x-forwarded-host: shop.example"))
                #expect(seen.contains("x-request-id: ") && seen.contains("x-kept: yes"))
                #expect(!seen.contains("x-hop") && !seen.contains("keep-alive: timeout"))
                // The client asked to close: the router says so and closes (readUntilClosed returned).
                #expect(seen.contains("connection: close"))
            }
        }
    }

    @Test(.timeLimit(.minutes(1)), arguments: [
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\n folded: line\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nContent Length: 0\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nX(Y): 1\r\n\r\n",
        "GET / HTTP/2.0\r\nHost: x\r\n\r\n",
    ])
    func ambiguousFramingIsRefusedWith400(request: String) async throws {
        let a = try await RouterTests.backend("a")
        try await stopping([a.task]) {
            let (proxy, port) = try await RouterTests.proxy([a.port])
            try await closing(proxy) {
                let (_, text) = try await TimeoutTests.readUntilClosed(port: port, send: request)
                #expect(text.hasPrefix("HTTP/1.1 400 Bad Request"), "\(text)")
                #expect(text.lowercased().contains("connection: close") && text.contains("request id"))
                let pool = try #require(await proxy.registry.report()["production"]?["v1"])
                #expect(pool.requests == 0, "nothing reached the instance")
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func anHTTP10ClientGetsItsAnswerAndTheConnectionCloses() async throws {
        let a = try await RouterTests.backend("a")
        try await stopping([a.task]) {
            let (proxy, port) = try await RouterTests.proxy([a.port])
            try await closing(proxy) {
                let (_, text) = try await TimeoutTests.readUntilClosed(port: port, send: "GET /p/old HTTP/1.0\r\n\r\n")
                #expect(text.contains(" 200 ") && text.hasSuffix("path old\n"), "\(text)")
                #expect(!text.lowercased().contains("transfer-encoding: chunked"))
            }
        }
    }
}

/// The scanner and the framing state machines, fed every way a body can be split across reads.
struct FramingTests {
    @Test func chunkedBodyEndIsFoundWhateverTheSplit() throws {
        let body = "5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer-A: 1\r\n\r\nGET /next"
        let bytes = Array(body.utf8)
        let end = bytes.count - "GET /next".utf8.count
        for split in 1..<bytes.count {
            var framing = BodyFraming(.chunked)
            var used = 0
            for part in [Array(bytes[0..<split]), Array(bytes[split...])] where !framing.done {
                used += try framing.advance(ByteBuffer(bytes: part))
            }
            #expect(framing.done && used == end, "split at \(split)")
        }
    }

    @Test func malformedChunkSizesAreErrors() {
        for bad in ["zz\r\n", "5\r\nhelloXX", "\r\n", "fffffffffffffffff\r\n"] {
            var framing = BodyFraming(.chunked)
            #expect(throws: BodyFraming.Malformed.self, "\(bad)") { _ = try framing.advance(ByteBuffer(string: bad)) }
        }
    }

    @Test func contentLengthCountsAcrossReads() throws {
        var framing = BodyFraming(.length, length: 10)
        #expect(try framing.advance(ByteBuffer(string: "1234")) == 4 && !framing.done)
        #expect(try framing.advance(ByteBuffer(string: "567890GET")) == 6 && framing.done)
    }

    @Test func anIncompleteHeadWaitsForMore() {
        var scanner = HeadScanner()
        let full = Array("GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc".utf8)
        for cut in 1..<(full.count - 3) {
            let outcome = full[0..<cut].withUnsafeBytes { scanner.scan($0, request: true) }
            #expect(outcome == .incomplete, "cut at \(cut)")
        }
        let outcome = full.withUnsafeBytes { scanner.scan($0, request: true) }
        #expect(outcome == .complete && scanner.head.contentLength == 3 && scanner.head.length == full.count - 3)
    }

    @Test func responsesThatNeedNoRewritePassUnchanged() {
        var scanner = HeadScanner()
        let plain = Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n".utf8)
        _ = plain.withUnsafeBytes { scanner.scan($0, request: false) }
        #expect(scanner.head.unchangedForClient)
        let hop = Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=5\r\n\r\n".utf8)
        _ = hop.withUnsafeBytes { scanner.scan($0, request: false) }
        #expect(!scanner.head.unchangedForClient)
    }
}

/// Sliding windows driven by an injected clock.
struct TrafficWindowTests {
    static let second: UInt64 = 1_000_000_000

    @Test func windowsSlideAndKeepLatencyPercentiles() {
        var w = TrafficWindows()
        let t0 = 1_000 * Self.second
        for i in 0..<90 { w.record(status: 200, micros: 1_000 + UInt64(i), now: t0) }
        for _ in 0..<10 { w.record(status: 503, micros: 50_000, now: t0) }
        w.upstreamError(now: t0)
        var windows = Dictionary(uniqueKeysWithValues: w.windows(now: t0).map { ($0.name, $0) })
        let ten = WindowStats(windows["10s"]!.counts, windows["10s"]!.latency)
        #expect(ten.requests == 100 && ten.responses2xx == 90 && ten.responses5xx == 10 && ten.upstreamErrors == 1)
        #expect(abs(ten.errorRate - 0.10) < 1e-9)
        #expect(ten.p50Ms >= 1.0 && ten.p50Ms < 1.2 && ten.p99Ms >= 49 && ten.p99Ms <= 51)
        // 30 s later: out of the 10 s window, still in the 1 min and 5 min ones.
        w.record(status: 200, micros: 2_000, now: t0 + 30 * Self.second)
        windows = Dictionary(uniqueKeysWithValues: w.windows(now: t0 + 30 * Self.second).map { ($0.name, $0) })
        #expect(windows["10s"]!.counts.requests == 1)
        #expect(windows["1m"]!.counts.requests == 101 && windows["5m"]!.counts.requests == 101)
        // 6 minutes later nothing is left.
        windows = Dictionary(uniqueKeysWithValues: w.windows(now: t0 + 400 * Self.second).map { ($0.name, $0) })
        #expect(windows.values.allSatisfy { $0.counts.requests == 0 && $0.latency == nil })
    }

    @Test func aReusedSlotForgetsItsOldPeriod() {
        var w = TrafficWindows()
        w.record(status: 500, micros: 10, now: 5 * Self.second)
        // Same 1 s slot index ten seconds later: the old count must not leak into the new period.
        w.record(status: 200, micros: 10, now: 15 * Self.second)
        let ten = w.windows(now: 15 * Self.second).first { $0.name == "10s" }!
        #expect(ten.counts.requests == 1 && ten.counts.r5xx == 0)
    }

    @Test func readingMidSecondCountsEachRequestOnce() {
        var w = TrafficWindows()
        let t0 = 50 * Self.second
        for _ in 0..<3 { w.record(status: 200, micros: 100, now: t0) }
        #expect(w.windows(now: t0 + 100_000_000).allSatisfy { $0.counts.requests == 3 })
        // More in the same second after a read, and more in the next one: each counted once, latencies too.
        for _ in 0..<2 { w.record(status: 404, micros: 300, now: t0 + 500_000_000) }
        w.record(status: 200, micros: 100, now: t0 + Self.second)
        for window in w.windows(now: t0 + Self.second + 1) {
            #expect(window.counts.requests == 6 && window.counts.r2xx == 4 && window.counts.r4xx == 2, "\(window.name)")
            #expect(window.latency?.totalCount == 6, "\(window.name)")
        }
    }
}
