import { badInputCases } from '../../../support/bad-input';
import { cases } from './exporter.cases';

describe('eda-harness exporter (bad input)', () => badInputCases(cases));
