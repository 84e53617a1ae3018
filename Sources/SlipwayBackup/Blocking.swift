import Dispatch
import SlipwayCore

/// Runs long synchronous work (an SQLite backup, a checksum of a large file) on a dispatch thread,
/// keeping the concurrency pool's few threads free.
func blocking<T: Sendable>(_ work: @escaping @Sendable () throws(SlipwayError) -> T) async throws(SlipwayError) -> T {
    let result: Result<T, SlipwayError> = await withCheckedContinuation { c in
        DispatchQueue.global().async {
            do throws(SlipwayError) { c.resume(returning: .success(try work())) } catch { c.resume(returning: .failure(error)) }
        }
    }
    return try result.get()
}
