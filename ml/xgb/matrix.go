package xgb

import (
	"fmt"
	"math"
)

// Matrix is a dense row-major feature matrix: feature j of row i is
// Data[i*Cols+j]. NaN marks a missing value, which XGBoost routes down each
// split's learned default direction.
type Matrix struct {
	Rows, Cols int
	Data       []float32
}

// NewMatrix returns a zero-filled rows × cols matrix.
func NewMatrix(rows, cols int) Matrix {
	return Matrix{Rows: rows, Cols: cols, Data: make([]float32, rows*cols)}
}

// Row returns row i as a slice sharing the matrix's storage.
func (m Matrix) Row(i int) []float32 {
	return m.Data[i*m.Cols : (i+1)*m.Cols]
}

func (m Matrix) validate() error {
	if m.Rows < 1 || m.Cols < 1 {
		return fmt.Errorf("xgb: matrix is %d×%d: need at least one row and one column", m.Rows, m.Cols)
	}
	if len(m.Data) != m.Rows*m.Cols {
		return fmt.Errorf("xgb: matrix is %d×%d but holds %d values", m.Rows, m.Cols, len(m.Data))
	}
	for i, v := range m.Data {
		// NB: XGBoost rejects ±Inf with a C++ error far from the cause.
		if math.IsInf(float64(v), 0) {
			return fmt.Errorf("xgb: row %d column %d is infinite; use NaN for missing", i/m.Cols, i%m.Cols)
		}
	}
	return nil
}

// dmatrix owns one XGBoost DMatrixHandle.
type dmatrix struct {
	a *api
	h uintptr
}

// newDMatrix copies m into XGBoost (XGDMatrixCreateFromMat copies, so m may
// be reused afterwards) and attaches labels and weights when given.
func newDMatrix(a *api, m Matrix, labels, weights []float32) (*dmatrix, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	d := &dmatrix{a: a}
	err := a.call("create matrix", func() int32 {
		return a.dmatrixCreateFromMat(m.Data, uint64(m.Rows), uint64(m.Cols), float32(math.NaN()), &d.h)
	})
	if err != nil {
		return nil, err
	}
	for _, info := range []struct {
		field string
		v     []float32
	}{{"label", labels}, {"weight", weights}} {
		if len(info.v) == 0 {
			continue
		}
		if err := d.setFloatInfo(info.field, info.v); err != nil {
			d.free()
			return nil, err
		}
	}
	return d, nil
}

func (d *dmatrix) setFloatInfo(field string, v []float32) error {
	return d.a.call("set "+field, func() int32 {
		return d.a.dmatrixSetFloatInfo(d.h, field, v, uint64(len(v)))
	})
}

func (d *dmatrix) free() {
	if d != nil && d.h != 0 {
		_ = d.a.call("free matrix", func() int32 { return d.a.dmatrixFree(d.h) })
		d.h = 0
	}
}
