#pragma once
// Every element kind's struct, for the circuit and solver tests.
#include "circuits/circuit.h"
#include "circuits/elements/capacitor.h"
#include "circuits/elements/conductance.h"
#include "circuits/elements/current_source.h"
#include "circuits/elements/diode.h"
#include "circuits/elements/inductor.h"
#include "circuits/elements/memristor.h"
#include "circuits/elements/vccs.h"
#include "circuits/elements/vcvs.h"
#include "circuits/elements/voltage_source.h"
