// SPDX-License-Identifier: GPL-2.0
/*
 * dmahba_trace.c - instantiates the dmahba tracepoints (the one file that
 * defines CREATE_TRACE_POINTS).
 */
#define CREATE_TRACE_POINTS
#include "dmahba_trace.h"
