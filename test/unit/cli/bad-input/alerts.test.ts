import { badInputCases } from '../../../support/bad-input';
import { cases } from './alerts.cases';

describe('eda-harness alerts (bad input)', () => badInputCases(cases));
