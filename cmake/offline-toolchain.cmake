# CMake toolchain hook used by .cargo/config.toml for deno_core's QuickJS backend.
# Its WebAssembly part (WAMR) fetches SIMDe with git; point FetchContent at Debian's
# libsimde-dev headers instead when they are installed. Without them nothing changes.
if(EXISTS "/usr/include/simde/simde-common.h" AND NOT DEFINED FETCHCONTENT_SOURCE_DIR_SIMDE)
  set(FETCHCONTENT_SOURCE_DIR_SIMDE "/usr/include" CACHE PATH "SIMDe headers from libsimde-dev")
endif()
