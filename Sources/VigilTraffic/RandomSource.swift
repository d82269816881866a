#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A source of 64 random bits. The derived draws below are written out here rather than taken from the standard
/// library so that a seed gives the same traffic on every Swift version and platform.
public protocol RandomSource {
    mutating func next() -> UInt64
}

extension RandomSource {
    /// Uniform in `[0, 1)`.
    @inline(__always)
    public mutating func unit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in `0..<bound`, `bound > 0` (multiply-shift; the bias is far below anything a test could see).
    @inline(__always)
    mutating func below(_ bound: Int) -> Int {
        Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    @inline(__always)
    mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.upperBound - range.lowerBound + 1)
    }

    @inline(__always)
    mutating func double(in low: Double, _ high: Double) -> Double {
        low + (high - low) * unit()
    }

    @inline(__always)
    mutating func chance(_ probability: Double) -> Bool {
        unit() < probability
    }

    /// Standard normal by Box-Muller (one value per call; simplicity beats the saved draw).
    mutating func standardNormal() -> Double {
        let u1 = 1.0 - unit()  // (0, 1]: log stays finite
        let u2 = unit()
        return sqrt(-2.0 * log(u1)) * cos(2.0 * Double.pi * u2)
    }

    /// Log-normal with the given median and log-space standard deviation.
    mutating func logNormal(median: Double, sigma: Double) -> Double {
        median * exp(sigma * standardNormal())
    }
}

/// SplitMix64: seeds xoshiro, and its finaliser hashes (seed, index) pairs into independent values.
/// SplitMix64: a small, fast, seeded generator (also used by `vigil train --synthesize`).
public struct SplitMix64: RandomSource, Sendable {
    var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    /// A bijective 64-bit finaliser with good avalanche.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A well-mixed value for the pair, for deriving per-card and per-merchant streams.
    @inline(__always)
    static func hash(_ a: UInt64, _ b: UInt64) -> UInt64 {
        mix(a ^ mix(b &+ 0x6A09_E667_F3BC_C909))
    }
}

/// xoshiro256** (Blackman and Vigna): the generator's main stream.
struct Xoshiro256StarStar: RandomSource, Sendable {
    private var s0, s1, s2, s3: UInt64

    init(seed: UInt64) {
        var seeder = SplitMix64(seed: seed)
        s0 = seeder.next()
        s1 = seeder.next()
        s2 = seeder.next()
        s3 = seeder.next()
    }

    @inline(__always)
    mutating func next() -> UInt64 {
        let result = rotateLeft(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotateLeft(s3, 45)
        return result
    }

    @inline(__always)
    private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 &- k))
    }
}
