/* frontend/parser.y — MLIR's textual format: generic ops, the custom forms of
 * builtin.module, func.func and func.return, types, attributes and locations.
 *
 * Actions are single calls into parse.c, which builds the IR as it goes; any error
 * (lexical, syntactic or semantic) is reported once, located, and aborts the parse. */
%code requires {
#include "parse_internal.h"
}

%code provides {
int tm_yylex(TM_YYSTYPE *lval, TM_YYLTYPE *lloc, void *scanner);
}

%code {
#include <stdio.h>
#include <string.h>

static void tm_yyerror(TM_YYLTYPE *loc, void *scanner, tm_pstate *ps, const char *msg);
}

%define api.prefix {tm_yy}
%define api.pure full
%define api.location.type {tm_span}
%define parse.error custom
%define parse.lac full
%locations
%lex-param {void *scanner}
%parse-param {void *scanner} {tm_pstate *ps}

%initial-action {
  @$.first_line = @$.last_line = 1;
  @$.first_column = @$.last_column = 1;
}

%union {
  tm_tok tok;
  const tm_type *type;
  const tm_attr *attr;
  const tm_loc *loc;
  const char *str;
  tm_pvec *vec;
  tm_puse *use;
  tm_pdef *def;
  tm_pnamed *named;
  tm_dlit *dlit;
  tm_pquant *qp;
  tm_pint *pint;
  tm_parg *arg;
  tm_pregion *region;
  tm_op *op;
  double f;
}

%token T_END 0 "end of file"
%token T_START_MODULE "start of module" T_START_TYPE "start of type" T_START_ATTR "start of attribute"
%token <tok> T_INTEGER "integer literal" T_FLOAT "float literal" T_STRING "string literal"
%token <tok> T_VALUE_ID "SSA value" T_BLOCK_ID "block label" T_SYMBOL "symbol reference"
%token <tok> T_TYPE_ALIAS "type alias" T_ATTR_ALIAS "attribute alias" T_DIMS "dimension list"
%token <tok> T_UNRANKED "'*x'" T_INTTYPE "integer type" T_FLOATTYPE "float type" T_BARE "identifier"
%token <tok> T_MODULE "'module'" T_FUNC "'func.func'" T_RETURN "'return'" T_ATTRIBUTES "'attributes'"
%token <tok> T_PRIVATE "'private'" T_PUBLIC "'public'" T_NESTED "'nested'"
%token <tok> T_TENSOR "'tensor'" T_MEMREF "'memref'" T_INDEX "'index'" T_NONE "'none'"
%token <tok> T_DENSE "'dense'" T_ARRAY "'array'" T_TRUE "'true'" T_FALSE "'false'" T_UNIT "'unit'"
%token <tok> T_LOC "'loc'" T_UNKNOWN "'unknown'" T_FUSED "'fused'" T_CALLSITE "'callsite'" T_AT "'at'"
%token <tok> T_QUANT "'!quant.uniform'"
%token T_ARROW "'->'"

%type <op> op_core generic_op module_op func_op return_op
%type <vec> result_defs opt_uses uses opt_regions regions opt_attr_dict attr_dict named_attrs
%type <vec> opt_types types func_results opt_block_args block_args attrs dense_elems
%type <vec> opt_func_args func_args opt_func_results opt_attributes quant_params locations
%type <vec> array_values
%type <def> result_def
%type <use> use
%type <region> region opt_func_body
%type <named> named_attr
%type <type> type nonfunc_type function_type quant_type
%type <attr> attr
%type <loc> loc opt_loc location
%type <tok> bare_id opt_sym_name quant_storage
%type <str> opt_visibility
%type <arg> block_arg func_arg
%type <dlit> dense_elem dense_scalar
%type <pint> signed_int opt_axis
%type <vec> opt_storage_range
%type <qp> quant_param
%type <f> number

/* `return` followed by an SSA name takes it as an operand, as mlir-opt does. */
%expect 1

%%

start
  : T_START_MODULE top_items
  | T_START_TYPE type { ps->type_result = $2; }
  | T_START_ATTR attr { ps->attr_result = $2; }
  ;

top_items
  : %empty
  | top_items top_item
  ;

top_item
  : T_TYPE_ALIAS '=' type { if (!tm_p_type_alias_def(ps, $1, $3, @1)) YYABORT; }
  | T_ATTR_ALIAS '=' attr { if (!tm_p_attr_alias_def(ps, $1, $3, @1)) YYABORT; }
  | operation
  ;

/* ------------------------------------------------------------------ operations */

operation
  : op_core opt_loc                 { if (!tm_p_finish_op(ps, $1, NULL, $2, @1)) YYABORT; }
  | result_defs '=' op_core opt_loc { if (!tm_p_finish_op(ps, $3, $1, $4, @1)) YYABORT; }
  ;

result_defs
  : result_def                 { $$ = tm_p_vec(ps, $1); }
  | result_defs ',' result_def { tm_p_push(ps, $1, $3); $$ = $1; }
  ;

result_def
  : T_VALUE_ID                   { if (!($$ = tm_p_def(ps, $1, @1, NULL, @1))) YYABORT; }
  | T_VALUE_ID ':' T_INTEGER     { if (!($$ = tm_p_def(ps, $1, @1, &$3, @3))) YYABORT; }
  ;

op_core
  : generic_op
  | module_op
  | func_op
  | return_op
  | T_BARE {
      tm_p_error(ps, @1, "custom op '%.*s' is unknown; only module, func.func and return have a "
                 "custom form, use the generic form \"%.*s\"(...) : (...) -> (...)",
                 (int)$1.len, $1.s, (int)$1.len, $1.s);
      YYABORT;
    }
  ;

generic_op
  : T_STRING { if (!tm_p_begin_generic(ps, $1, @1)) YYABORT; }
    '(' opt_uses ')' opt_successors opt_properties opt_regions opt_attr_dict ':' function_type {
      $$ = tm_p_generic_op(ps, @1, $4, $8, $9, $11, @11);
      tm_p_end_op(ps);
      if (!$$) YYABORT;
    }
  ;

opt_successors
  : %empty
  | '[' { tm_p_error(ps, @1, "successor lists are not supported"); YYABORT; }
  ;

opt_properties
  : %empty
  | '<' { tm_p_error(ps, @1, "properties (<{...}>) are not supported; use the attribute dictionary"); YYABORT; }
  ;

opt_uses
  : %empty { $$ = tm_p_vec(ps, NULL); }
  | uses
  ;

uses
  : use          { $$ = tm_p_vec(ps, $1); }
  | uses ',' use { tm_p_push(ps, $1, $3); $$ = $1; }
  ;

use
  : T_VALUE_ID { if (!($$ = tm_p_use(ps, $1, @1))) YYABORT; }
  ;

opt_regions
  : %empty          { $$ = NULL; }
  | '(' regions ')' { $$ = $2; }
  ;

regions
  : region             { $$ = tm_p_vec(ps, $1); }
  | regions ',' region { tm_p_push(ps, $1, $3); $$ = $1; }
  ;

region
  : '{' { if (!tm_p_region_begin(ps)) YYABORT; } region_body '}' {
      if (!($$ = tm_p_region_end(ps))) YYABORT;
    }
  ;

region_body
  : %empty
  | region_body operation
  | region_body block_label
  ;

block_label
  : T_BLOCK_ID opt_block_args ':' { if (!tm_p_block_label(ps, $1, @1, $2)) YYABORT; }
  ;

opt_block_args
  : %empty                { $$ = NULL; }
  | '(' ')'               { $$ = NULL; }
  | '(' block_args ')'    { $$ = $2; }
  ;

block_args
  : block_arg                { $$ = tm_p_vec(ps, $1); }
  | block_args ',' block_arg { tm_p_push(ps, $1, $3); $$ = $1; }
  ;

block_arg
  : T_VALUE_ID ':' type opt_loc { $$ = tm_p_arg(ps, &$1, $3, $4, @1); }
  ;

/* builtin.module */
module_op
  : T_MODULE opt_sym_name opt_attributes { tm_p_begin_custom(ps, "builtin.module", NULL); }
    region {
      $$ = tm_p_module_op(ps, $2, $3, $5, @1);
      tm_p_end_op(ps);
      if (!$$) YYABORT;
    }
  ;

opt_sym_name
  : %empty   { $$ = (tm_tok){NULL, 0}; }
  | T_SYMBOL
  ;

opt_attributes
  : %empty                 { $$ = NULL; }
  | T_ATTRIBUTES attr_dict { $$ = $2; }
  ;

/* func.func */
func_op
  : T_FUNC opt_visibility T_SYMBOL '(' opt_func_args ')' opt_func_results opt_attributes
      { tm_p_begin_custom(ps, "func.func", $5); }
    opt_func_body {
      $$ = tm_p_func_op(ps, $2, $3, @3, $5, $7, $8, $10, @1);
      tm_p_end_op(ps);
      if (!$$) YYABORT;
    }
  ;

opt_visibility
  : %empty    { $$ = NULL; }
  | T_PRIVATE { $$ = "private"; }
  | T_PUBLIC  { $$ = "public"; }
  | T_NESTED  { $$ = "nested"; }
  ;

opt_func_args
  : %empty { $$ = tm_p_vec(ps, NULL); }
  | func_args
  ;

func_args
  : func_arg               { $$ = tm_p_vec(ps, $1); }
  | func_args ',' func_arg { tm_p_push(ps, $1, $3); $$ = $1; }
  ;

func_arg
  : T_VALUE_ID ':' type opt_loc { $$ = tm_p_arg(ps, &$1, $3, $4, @1); }
  | type                        { $$ = tm_p_arg(ps, NULL, $1, NULL, @1); }
  ;

opt_func_results
  : %empty               { $$ = tm_p_vec(ps, NULL); }
  | T_ARROW func_results { $$ = $2; }
  ;

opt_func_body
  : %empty { $$ = NULL; }
  | region
  ;

/* func.return */
return_op
  : T_RETURN                  { $$ = tm_p_return_op(ps, NULL, NULL, @1, @1); if (!$$) YYABORT; }
  | T_RETURN uses ':' types   { $$ = tm_p_return_op(ps, $2, $4, @1, @4); if (!$$) YYABORT; }
  ;

/* ------------------------------------------------------------------- locations */

opt_loc
  : %empty { $$ = NULL; }
  | loc
  ;

loc
  : T_LOC '(' location ')' { $$ = $3; }
  ;

location
  : T_UNKNOWN { $$ = tm_loc_unknown(ps->ctx); }
  | T_STRING ':' T_INTEGER ':' T_INTEGER {
      if (!($$ = tm_p_loc_file(ps, $1, @1, $3, @3, $5, @5))) YYABORT;
    }
  | T_STRING                  { if (!($$ = tm_p_loc_name(ps, $1, @1, NULL))) YYABORT; }
  | T_STRING '(' location ')' { if (!($$ = tm_p_loc_name(ps, $1, @1, $3))) YYABORT; }
  | T_FUSED '[' locations ']' { $$ = tm_p_loc_fused(ps, $3); }
  | T_CALLSITE '(' location T_AT location ')' { $$ = tm_loc_callsite(ps->ctx, $3, $5); }
  ;

locations
  : location               { $$ = tm_p_vec(ps, (void *)$1); }
  | locations ',' location { tm_p_push(ps, $1, (void *)$3); $$ = $1; }
  ;

/* ----------------------------------------------------------------------- types */

type
  : nonfunc_type
  | function_type
  ;

function_type
  : '(' opt_types ')' T_ARROW func_results { $$ = tm_p_func_type(ps, $2, $5); }
  ;

func_results
  : nonfunc_type      { $$ = tm_p_vec(ps, (void *)$1); }
  | '(' opt_types ')' { $$ = $2; }
  ;

opt_types
  : %empty { $$ = tm_p_vec(ps, NULL); }
  | types
  ;

types
  : type           { $$ = tm_p_vec(ps, (void *)$1); }
  | types ',' type { tm_p_push(ps, $1, (void *)$3); $$ = $1; }
  ;

nonfunc_type
  : T_INTTYPE   { if (!($$ = tm_p_int_type(ps, $1, @1))) YYABORT; }
  | T_FLOATTYPE { if (!($$ = tm_p_float_type(ps, $1, @1))) YYABORT; }
  | T_INDEX     { $$ = tm_type_index(ps->ctx); }
  | T_NONE      { $$ = tm_type_none(ps->ctx); }
  | T_TENSOR '<' T_DIMS type '>' { if (!($$ = tm_p_shaped(ps, false, &$3, @3, $4, @4))) YYABORT; }
  | T_TENSOR '<' type '>'        { if (!($$ = tm_p_shaped(ps, false, NULL, @3, $3, @3))) YYABORT; }
  | T_TENSOR '<' T_INTEGER '>'   { if (!($$ = tm_p_shaped_hexdim(ps, false, $3, @3))) YYABORT; }
  | T_MEMREF '<' T_DIMS type '>' { if (!($$ = tm_p_shaped(ps, true, &$3, @3, $4, @4))) YYABORT; }
  | T_MEMREF '<' type '>'        { if (!($$ = tm_p_shaped(ps, true, NULL, @3, $3, @3))) YYABORT; }
  | T_MEMREF '<' T_INTEGER '>'   { if (!($$ = tm_p_shaped_hexdim(ps, true, $3, @3))) YYABORT; }
  | T_TENSOR '<' T_UNRANKED { tm_p_error(ps, @3, "unranked tensors are not supported"); YYABORT; }
  | T_MEMREF '<' T_UNRANKED { tm_p_error(ps, @3, "unranked memrefs are not supported"); YYABORT; }
  | quant_type
  | T_TYPE_ALIAS { if (!($$ = tm_p_type_alias_use(ps, $1, @1))) YYABORT; }
  ;

/* !quant.uniform<storage[<min:max>]:expressed[:axis], scale[:zp] | {scale[:zp], ...}> */
quant_type
  : T_QUANT '<' quant_storage opt_storage_range ':' type opt_axis ',' quant_param '>' {
      if (!($$ = tm_p_quant(ps, $3, @3, $4, $6, @6, $7, false, tm_p_vec(ps, $9)))) YYABORT;
    }
  | T_QUANT '<' quant_storage opt_storage_range ':' type opt_axis ',' '{' quant_params '}' '>' {
      if (!($$ = tm_p_quant(ps, $3, @3, $4, $6, @6, $7, true, $10))) YYABORT;
    }
  ;

quant_storage
  : T_INTTYPE
  | T_BARE
  ;

opt_storage_range
  : %empty                              { $$ = NULL; }
  | '<' signed_int ':' signed_int '>'   { $$ = tm_p_vec(ps, $2); tm_p_push(ps, $$, $4); }
  ;

opt_axis
  : %empty         { $$ = NULL; }
  | ':' signed_int { $$ = $2; }
  ;

quant_params
  : quant_param                  { $$ = tm_p_vec(ps, $1); }
  | quant_params ',' quant_param { tm_p_push(ps, $1, $3); $$ = $1; }
  ;

quant_param
  : number                { $$ = tm_p_quant_param(ps, $1, 0, @1); }
  | number ':' signed_int { $$ = tm_p_quant_param(ps, $1, $3->v, @1); }
  ;

number
  : T_FLOAT       { if (!tm_p_number(ps, $1, false, @1, &$$)) YYABORT; }
  | '-' T_FLOAT   { if (!tm_p_number(ps, $2, true, @1, &$$)) YYABORT; }
  | T_INTEGER     { if (!tm_p_number(ps, $1, false, @1, &$$)) YYABORT; }
  | '-' T_INTEGER { if (!tm_p_number(ps, $2, true, @1, &$$)) YYABORT; }
  ;

signed_int
  : T_INTEGER     { if (!($$ = tm_p_signed_int(ps, $1, false, @1))) YYABORT; }
  | '-' T_INTEGER { if (!($$ = tm_p_signed_int(ps, $2, true, @1))) YYABORT; }
  ;

/* ------------------------------------------------------------------ attributes */

attr
  : T_INTEGER              { if (!($$ = tm_p_int_attr(ps, $1, false, @1, NULL, @1))) YYABORT; }
  | T_INTEGER ':' type     { if (!($$ = tm_p_int_attr(ps, $1, false, @1, $3, @3))) YYABORT; }
  | '-' T_INTEGER          { if (!($$ = tm_p_int_attr(ps, $2, true, @1, NULL, @1))) YYABORT; }
  | '-' T_INTEGER ':' type { if (!($$ = tm_p_int_attr(ps, $2, true, @1, $4, @4))) YYABORT; }
  | T_FLOAT                { if (!($$ = tm_p_float_attr(ps, $1, false, @1, NULL, @1))) YYABORT; }
  | T_FLOAT ':' type       { if (!($$ = tm_p_float_attr(ps, $1, false, @1, $3, @3))) YYABORT; }
  | '-' T_FLOAT            { if (!($$ = tm_p_float_attr(ps, $2, true, @1, NULL, @1))) YYABORT; }
  | '-' T_FLOAT ':' type   { if (!($$ = tm_p_float_attr(ps, $2, true, @1, $4, @4))) YYABORT; }
  | T_TRUE                 { $$ = tm_attr_bool(ps->ctx, true); }
  | T_FALSE                { $$ = tm_attr_bool(ps->ctx, false); }
  | T_UNIT                 { $$ = tm_attr_unit(ps->ctx); }
  | T_STRING               { if (!($$ = tm_p_string_attr(ps, $1, @1))) YYABORT; }
  | T_SYMBOL               { if (!($$ = tm_p_symref_attr(ps, $1, @1))) YYABORT; }
  | '[' ']'                { $$ = tm_attr_array(ps->ctx, 0, NULL); }
  | '[' attrs ']'          { $$ = tm_p_array_attr(ps, $2); }
  | attr_dict              { if (!($$ = tm_p_dict_attr(ps, $1))) YYABORT; }
  | type                   { $$ = tm_attr_type(ps->ctx, $1); }
  | T_DENSE '<' '>' ':' type {
      if (!($$ = tm_p_dense(ps, NULL, NULL, @1, $5, @5))) YYABORT;
    }
  | T_DENSE '<' T_STRING '>' ':' type {
      if (!($$ = tm_p_dense(ps, NULL, &$3, @3, $6, @6))) YYABORT;
    }
  | T_DENSE '<' dense_elem '>' ':' type {
      if (!($$ = tm_p_dense(ps, $3, NULL, @3, $6, @6))) YYABORT;
    }
  | T_ARRAY '<' type '>'                  { if (!($$ = tm_p_dense_array(ps, $3, @3, NULL))) YYABORT; }
  | T_ARRAY '<' type ':' array_values '>' { if (!($$ = tm_p_dense_array(ps, $3, @3, $5))) YYABORT; }
  | T_ATTR_ALIAS           { if (!($$ = tm_p_attr_alias_use(ps, $1, @1))) YYABORT; }
  ;

attrs
  : attr           { $$ = tm_p_vec(ps, (void *)$1); }
  | attrs ',' attr { tm_p_push(ps, $1, (void *)$3); $$ = $1; }
  ;

opt_attr_dict
  : %empty { $$ = NULL; }
  | attr_dict
  ;

attr_dict
  : '{' '}'            { $$ = tm_p_vec(ps, NULL); }
  | '{' named_attrs '}' { $$ = $2; }
  ;

named_attrs
  : named_attr                 { $$ = tm_p_vec(ps, $1); }
  | named_attrs ',' named_attr { tm_p_push(ps, $1, $3); $$ = $1; }
  ;

named_attr
  : bare_id               { if (!($$ = tm_p_named(ps, $1, false, NULL, @1))) YYABORT; }
  | bare_id '=' attr      { if (!($$ = tm_p_named(ps, $1, false, $3, @1))) YYABORT; }
  | T_STRING              { if (!($$ = tm_p_named(ps, $1, true, NULL, @1))) YYABORT; }
  | T_STRING '=' attr     { if (!($$ = tm_p_named(ps, $1, true, $3, @1))) YYABORT; }
  ;

bare_id
  : T_BARE | T_MODULE | T_FUNC | T_RETURN | T_ATTRIBUTES | T_PRIVATE | T_PUBLIC | T_NESTED
  | T_TENSOR | T_MEMREF | T_INDEX | T_NONE | T_DENSE | T_ARRAY | T_TRUE | T_FALSE | T_UNIT
  | T_LOC | T_UNKNOWN | T_FUSED | T_CALLSITE | T_AT | T_INTTYPE | T_FLOATTYPE
  ;

dense_elem
  : '[' ']'             { $$ = tm_p_dl_list(ps, NULL, @1); }
  | '[' dense_elems ']' { $$ = tm_p_dl_list(ps, $2, @1); }
  | dense_scalar
  ;

dense_elems
  : dense_elem                 { $$ = tm_p_vec(ps, $1); }
  | dense_elems ',' dense_elem { tm_p_push(ps, $1, $3); $$ = $1; }
  ;

dense_scalar
  : T_INTEGER     { $$ = tm_p_dl_scalar(ps, TM_DL_INT, $1, false, @1); }
  | '-' T_INTEGER { $$ = tm_p_dl_scalar(ps, TM_DL_INT, $2, true, @1); }
  | T_FLOAT       { $$ = tm_p_dl_scalar(ps, TM_DL_FLOAT, $1, false, @1); }
  | '-' T_FLOAT   { $$ = tm_p_dl_scalar(ps, TM_DL_FLOAT, $2, true, @1); }
  | T_TRUE        { $$ = tm_p_dl_bool(ps, true, @1); }
  | T_FALSE       { $$ = tm_p_dl_bool(ps, false, @1); }
  ;

array_values
  : dense_scalar                  { $$ = tm_p_vec(ps, $1); }
  | array_values ',' dense_scalar { tm_p_push(ps, $1, $3); $$ = $1; }
  ;

%%

/* Token classes a syntax error can name as a whole ("expected type") instead of
 * listing every token that could start one. */
static const yysymbol_kind_t type_starts[] = {
    YYSYMBOL_T_INTTYPE, YYSYMBOL_T_FLOATTYPE, YYSYMBOL_T_INDEX, YYSYMBOL_T_NONE,
    YYSYMBOL_T_TENSOR, YYSYMBOL_T_MEMREF, YYSYMBOL_T_QUANT, YYSYMBOL_T_TYPE_ALIAS,
};
static const yysymbol_kind_t attr_starts[] = {
    YYSYMBOL_T_INTEGER, YYSYMBOL_T_FLOAT, YYSYMBOL_T_TRUE, YYSYMBOL_T_FALSE,
    YYSYMBOL_T_UNIT, YYSYMBOL_T_STRING, YYSYMBOL_T_SYMBOL, YYSYMBOL_T_DENSE,
    YYSYMBOL_T_ARRAY, YYSYMBOL_T_ATTR_ALIAS,
};
static const yysymbol_kind_t op_starts[] = {
    YYSYMBOL_T_VALUE_ID, YYSYMBOL_T_STRING, YYSYMBOL_T_MODULE, YYSYMBOL_T_FUNC,
    YYSYMBOL_T_RETURN, YYSYMBOL_T_BARE,
};
static const yysymbol_kind_t name_starts[] = {
    YYSYMBOL_T_BARE, YYSYMBOL_T_STRING, YYSYMBOL_T_INTTYPE, YYSYMBOL_T_TENSOR,
    YYSYMBOL_T_LOC, YYSYMBOL_T_AT,
};
static const yysymbol_kind_t keywords[] = {
    YYSYMBOL_T_FLOATTYPE, YYSYMBOL_T_MODULE, YYSYMBOL_T_FUNC, YYSYMBOL_T_RETURN,
    YYSYMBOL_T_ATTRIBUTES, YYSYMBOL_T_PRIVATE, YYSYMBOL_T_PUBLIC, YYSYMBOL_T_NESTED,
    YYSYMBOL_T_MEMREF, YYSYMBOL_T_INDEX, YYSYMBOL_T_NONE, YYSYMBOL_T_DENSE,
    YYSYMBOL_T_ARRAY, YYSYMBOL_T_TRUE, YYSYMBOL_T_FALSE, YYSYMBOL_T_UNIT,
    YYSYMBOL_T_UNKNOWN, YYSYMBOL_T_FUSED, YYSYMBOL_T_CALLSITE,
};
static const yysymbol_kind_t loc_starts[] = {
    YYSYMBOL_T_UNKNOWN, YYSYMBOL_T_STRING, YYSYMBOL_T_FUSED, YYSYMBOL_T_CALLSITE,
};

static bool has(const yysymbol_kind_t *set, int n, yysymbol_kind_t k) {
  for (int i = 0; i < n; i++)
    if (set[i] == k) return true;
  return false;
}

static bool has_all(const yysymbol_kind_t *exp, int n, const yysymbol_kind_t *cls, int ncls) {
  for (int i = 0; i < ncls; i++)
    if (!has(exp, n, cls[i])) return false;
  return true;
}

/* Removes the members of cls from exp (in place). */
static int drop(yysymbol_kind_t *exp, int n, const yysymbol_kind_t *cls, int ncls) {
  int k = 0;
  for (int i = 0; i < n; i++)
    if (!has(cls, ncls, exp[i])) exp[k++] = exp[i];
  return k;
}

/* Removes the single-character tokens listed in chars. */
static int drop_chars(yysymbol_kind_t *exp, int n, const char *chars) {
  int k = 0;
  for (int i = 0; i < n; i++) {
    const char *nm = yysymbol_name(exp[i]);
    bool is_char = nm[0] == '\'' && nm[1] && nm[2] == '\'' && !nm[3] && strchr(chars, nm[1]);
    if (!is_char) exp[k++] = exp[i];
  }
  return k;
}

#define CLASS(set) set, (int)TM_COUNTOF(set)

static int yyreport_syntax_error(const yypcontext_t *yyctx, void *scanner, tm_pstate *ps) {
  (void)scanner;
  yysymbol_kind_t exp[128];
  int n = yypcontext_expected_tokens(yyctx, exp, (int)TM_COUNTOF(exp));
  if (n < 0) n = 0;
  const char *classes[4];
  int nclasses = 0;
  /* Keywords are attribute names too, so names are recognized by the identifier token;
   * an attribute value can also be a type, so types are part of the value class. */
  if (has_all(exp, n, CLASS(op_starts))) {
    classes[nclasses++] = "operation";
    n = drop(exp, n, CLASS(op_starts));
  }
  if (has_all(exp, n, CLASS(name_starts))) {
    classes[nclasses++] = "attribute name";
    n = drop(exp, n, CLASS(name_starts));
    n = drop(exp, n, CLASS(keywords));
  }
  if (has_all(exp, n, CLASS(attr_starts))) {
    classes[nclasses++] = "attribute value";
    n = drop(exp, n, CLASS(attr_starts));
    n = drop(exp, n, CLASS(type_starts));
    n = drop_chars(exp, n, "-[{(");
  } else if (has_all(exp, n, CLASS(type_starts))) {
    classes[nclasses++] = "type";
    n = drop(exp, n, CLASS(type_starts));
    n = drop_chars(exp, n, "(");
  }
  if (has_all(exp, n, CLASS(loc_starts))) {
    classes[nclasses++] = "location";
    n = drop(exp, n, CLASS(loc_starts));
  }

  /* "expected A, B or C" from the classes and the remaining tokens. */
  char msg[512];
  size_t len = 0;
  int total = nclasses + n;
  yysymbol_kind_t got = yypcontext_token(yyctx);
  if (total == 0 || total > 6) {
    const char *name = yysymbol_name(got);
    size_t nl = strlen(name);
    if (nl >= 2 && name[0] == '"') name++, nl -= 2;
    snprintf(msg, sizeof msg, "unexpected %.*s", (int)nl, name);
  } else {
    len = (size_t)snprintf(msg, sizeof msg, "expected ");
    for (int i = 0; i < total && len < sizeof msg; i++) {
      const char *name = i < nclasses ? classes[i] : yysymbol_name(exp[i - nclasses]);
      size_t nl = strlen(name);
      /* Bison quotes aliased names: "'->'" -> '->'. */
      if (nl >= 2 && name[0] == '"') name++, nl -= 2;
      const char *sep = i == 0 ? "" : i == total - 1 ? " or " : ", ";
      len += (size_t)snprintf(msg + len, sizeof msg - len, "%s%.*s", sep, (int)nl, name);
    }
    if (got == YYSYMBOL_YYEOF && len < sizeof msg)
      snprintf(msg + len, sizeof msg - len, " before end of file");
  }
  tm_p_error(ps, *yypcontext_location(yyctx), "%s", msg);
  return 0;
}

/* Bison's own failures (its stack exhausted); syntax errors go through the function above. */
static void tm_yyerror(TM_YYLTYPE *loc, void *scanner, tm_pstate *ps, const char *msg) {
  (void)scanner;
  tm_p_error(ps, *loc, "%s", msg);
}
