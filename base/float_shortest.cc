// The shortest digits of a double, from Dragonbox (Debian: libdragonbox-dev,
// Junekey Jeon's header-only C++ library), behind a C function.
//
// Why a library and this one: Debian packages no C shortest-round-trip
// formatter (Ryu only as a Rust crate); libdouble-conversion is a C++ shared
// library the agent would then load at start (with libstdc++). Dragonbox is
// header-only and well kept, is proven shortest-and-closest (as Ryu and
// Schubfach), and this one translation unit compiles it without exceptions,
// RTTI or guarded statics: the object needs nothing from libstdc++ (its
// tables are constexpr data), so the agent stays a C program linked by the C
// driver (CMAKE_CXX_LINKER_PREFERENCE_PROPAGATES OFF), with no new NEEDED
// entry: tests/integration/test_agent_lazy_libs.sh checks that.
#include <dragonbox/dragonbox.h>

extern "C" {
#include "float_fmt.h"
}

// Defaults otherwise: trailing zeros removed; the closest of the shortest,
// ties to even; read back with round-to-nearest-even, as strtod and Go do.
int hg_float_shortest(double v, uint64_t *sig)
{
	auto r = jkj::dragonbox::to_decimal(v, jkj::dragonbox::policy::sign::ignore);
	*sig = r.significand;
	return r.exponent;
}
