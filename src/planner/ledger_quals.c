/*-------------------------------------------------------------------------
 *
 * ledger_quals.c
 *	  Which WHERE conditions a ledger scan can push down, as LedgerQual trees.
 *
 * NOTES
 *	  The same analysis runs at planning time (to decide and cost) and at
 *	  executor start (on the plan's copy of the clauses, to build the
 *	  filter).  A condition is pushable when it compares a column of the
 *	  scanned relation with an expression that holds no variable of it and
 *	  calls nothing volatile (constants, parameters, now() - interval ...),
 *	  through an operator of the column type's default btree operator
 *	  family under the column's collation, so that zone maps and the sorted
 *	  dictionaries agree with it.  AND keeps its pushable arms (a superset),
 *	  OR and NOT need every arm.
 *
 * IDENTIFICATION
 *	  src/planner/ledger_quals.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/nbtree.h"
#include "executor/executor.h"
#include "utils/array.h"
#include "utils/datum.h"
#include "access/stratnum.h"
#include "catalog/pg_am.h"
#include "catalog/pg_opclass.h"
#include "commands/defrem.h"
#include "ledger/scan.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "planner_internal.h"
#include "utils/lsyscache.h"

/* the Var of the scanned relation in e, if e is one (through relabels) */
static Var *
scan_var(Expr *e, Index varno)
{
	while (e && IsA(e, RelabelType))
		e = ((RelabelType *) e)->arg;
	if (e && IsA(e, Var))
	{
		Var		   *v = (Var *) e;

		if (v->varno == varno && v->varlevelsup == 0 && v->varattno > 0)
			return v;
	}
	return NULL;
}

/* true if e can be computed once before the scan */
static bool
scan_constant(Expr *e)
{
	return !contain_var_clause((Node *) e) &&
		!contain_volatile_functions((Node *) e) &&
		!contain_agg_clause((Node *) e) &&
		!contain_window_function((Node *) e) &&
		!expression_returns_set((Node *) e);
}

/* the default btree opfamily of a column type, or InvalidOid */
static Oid
column_opfamily(Oid typid)
{
	Oid			opclass = GetDefaultOpClass(getBaseType(typid), BTREE_AM_OID);

	return OidIsValid(opclass) ? get_opclass_family(opclass) : InvalidOid;
}

/* a leaf for "var op value"; NULL if not pushable */
static LedgerQual *
make_leaf(Var *var, Oid opno, Expr *value, Oid inputcollid, bool in,
		  List **values)
{
	Oid			opfamily = column_opfamily(var->vartype);
	Oid			coltype = getBaseType(var->vartype);
	Oid			valtype = exprType((Node *) value);
	int			strategy;
	Oid			proc;
	LedgerQual *q;

	if (!OidIsValid(opfamily))
		return NULL;
	if (in)
		valtype = get_element_type(valtype);
	if (!OidIsValid(valtype))
		return NULL;
	valtype = getBaseType(valtype);
	if (inputcollid != var->varcollid)
		return NULL;

	strategy = get_op_opfamily_strategy(opno, opfamily);
	if (strategy == 0 && !in)
	{
		Oid			neg = get_negator(opno);

		if (OidIsValid(neg) &&
			get_op_opfamily_strategy(neg, opfamily) == BTEqualStrategyNumber)
			strategy = LEDGER_STRATEGY_NE;
		else
			return NULL;
	}
	else if (strategy == 0)
		return NULL;
	if (in && strategy != BTEqualStrategyNumber)
		return NULL;

	proc = get_opfamily_proc(opfamily, coltype, valtype, BTORDER_PROC);
	if (!OidIsValid(proc))
		return NULL;

	q = palloc0(sizeof(LedgerQual));
	q->kind = in ? LEDGER_QUAL_IN : LEDGER_QUAL_CMP;
	q->attnum = var->varattno;
	q->strategy = strategy;
	q->collation = var->varcollid;
	fmgr_info(proc, &q->cmp);
	q->exec = value;			/* the expression; the executor evaluates it */
	if (values)
		*values = lappend(*values, q);
	return q;
}

/*
 * Builds the pushable part of clause e on relation varno.  *complete is
 * cleared when parts were left out (the result is then a superset).
 * Leaves with values to compute are appended to *leaves.
 */
LedgerQual *
ledger_qual_build(Expr *e, Index varno, bool *complete, List **leaves)
{
	*complete = true;
	if (e == NULL)
		return NULL;

	if (IsA(e, BoolExpr))
	{
		BoolExpr   *b = (BoolExpr *) e;
		LedgerQual *q = palloc0(sizeof(LedgerQual));
		ListCell   *lc;
		List	   *sub_leaves = NIL;

		q->kind = b->boolop == AND_EXPR ? LEDGER_QUAL_AND :
			b->boolop == OR_EXPR ? LEDGER_QUAL_OR : LEDGER_QUAL_NOT;
		foreach(lc, b->args)
		{
			bool		c;
			LedgerQual *arg = ledger_qual_build(lfirst(lc), varno, &c, &sub_leaves);

			if (arg == NULL)
			{
				/* an unknown arm: AND can do without it, OR and NOT cannot */
				if (q->kind != LEDGER_QUAL_AND)
					return NULL;
				*complete = false;
				continue;
			}
			if (!c)
			{
				/* a superset arm: fine for AND and OR, wrong under NOT */
				if (q->kind == LEDGER_QUAL_NOT)
					return NULL;
				*complete = false;
			}
			q->args = lappend(q->args, arg);
		}
		if (q->args == NIL)
			return NULL;
		if (leaves)
			*leaves = list_concat(*leaves, sub_leaves);
		return q;
	}

	if (IsA(e, OpExpr))
	{
		OpExpr	   *op = (OpExpr *) e;
		Var		   *var;
		Expr	   *other;
		Oid			opno = op->opno;
		LedgerQual *q;

		if (list_length(op->args) != 2)
			return NULL;
		if ((var = scan_var(linitial(op->args), varno)) != NULL)
			other = lsecond(op->args);
		else if ((var = scan_var(lsecond(op->args), varno)) != NULL)
		{
			other = linitial(op->args);
			opno = get_commutator(opno);
			if (!OidIsValid(opno))
				return NULL;
		}
		else
			return NULL;
		if (!scan_constant(other))
			return NULL;
		q = make_leaf(var, opno, other, op->inputcollid, false, leaves);
		return q;
	}

	if (IsA(e, ScalarArrayOpExpr))
	{
		ScalarArrayOpExpr *sa = (ScalarArrayOpExpr *) e;
		Var		   *var;

		if (!sa->useOr || list_length(sa->args) != 2)
			return NULL;
		var = scan_var(linitial(sa->args), varno);
		if (var == NULL || !scan_constant(lsecond(sa->args)))
			return NULL;
		return make_leaf(var, sa->opno, lsecond(sa->args), sa->inputcollid,
						 true, leaves);
	}

	if (IsA(e, NullTest))
	{
		NullTest   *nt = (NullTest *) e;
		Var		   *var = scan_var(nt->arg, varno);
		LedgerQual *q;

		if (var == NULL || nt->argisrow)
			return NULL;
		q = palloc0(sizeof(LedgerQual));
		q->kind = LEDGER_QUAL_NULLTEST;
		q->attnum = var->varattno;
		q->isnull = nt->nulltesttype == IS_NULL;
		return q;
	}

	return NULL;
}

/*
 * ANDs the pushable parts of a list of clauses; NULL if none.  With
 * all_complete, says whether the result is exactly the clauses (every one
 * pushed whole) rather than a superset.
 */
LedgerQual *
ledger_qual_build_list(List *clauses, Index varno, List **pushed, List **leaves,
					   bool *all_complete)
{
	LedgerQual *top = palloc0(sizeof(LedgerQual));
	ListCell   *lc;

	top->kind = LEDGER_QUAL_AND;
	if (all_complete)
		*all_complete = true;
	foreach(lc, clauses)
	{
		Expr	   *clause = lfirst(lc);
		bool		complete;
		LedgerQual *q;

		if (IsA(clause, RestrictInfo))
			clause = ((RestrictInfo *) clause)->clause;
		q = ledger_qual_build(clause, varno, &complete, leaves);
		if (all_complete && (q == NULL || !complete))
			*all_complete = false;
		if (q == NULL)
			continue;
		top->args = lappend(top->args, q);
		if (pushed)
			*pushed = lappend(*pushed, clause);
	}
	return top->args == NIL ? NULL : top;
}

/*
 * Computes the comparison values of a filter's leaves (parameters, stable
 * expressions) with their initialized expressions states, into qcxt.
 */
void
ledger_qual_compute_values(List *leaves, List *leaf_states,
						   ExprContext *econtext, MemoryContext qcxt)
{
	ListCell   *lq,
			   *ls;

	forboth(lq, leaves, ls, leaf_states)
	{
		LedgerQual *q = lfirst(lq);
		ExprState  *es = lfirst(ls);
		bool		isnull;
		Datum		v;
		MemoryContext old;

		ResetExprContext(econtext);
		v = ExecEvalExprSwitchContext(es, econtext, &isnull);
		old = MemoryContextSwitchTo(qcxt);
		q->null_value = isnull;
		q->nvalues = 0;
		if (!isnull && q->kind == LEDGER_QUAL_CMP)
		{
			Oid			typid = exprType((Node *) q->exec);
			int16		typlen;
			bool		typbyval;

			get_typlenbyval(typid, &typlen, &typbyval);
			q->values = palloc(sizeof(Datum));
			q->values[0] = datumCopy(v, typbyval, typlen);
			q->nvalues = 1;
		}
		else if (!isnull)
		{
			ArrayType  *arr = DatumGetArrayTypePCopy(v);
			Oid			elemtype = ARR_ELEMTYPE(arr);
			int16		typlen;
			bool		typbyval;
			char		typalign;
			Datum	   *elems;
			bool	   *nulls;
			int			n;

			get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
			deconstruct_array(arr, elemtype, typlen, typbyval, typalign,
							  &elems, &nulls, &n);
			q->values = palloc(sizeof(Datum) * Max(n, 1));
			for (int i = 0; i < n; i++)
				if (!nulls[i])	/* "= NULL" matches nothing */
					q->values[q->nvalues++] = elems[i];
		}
		MemoryContextSwitchTo(old);
	}
	ResetExprContext(econtext);
}
